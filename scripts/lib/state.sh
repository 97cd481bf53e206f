# Where the background services of scripts/up.sh keep their data, logs and pids. Sourced.
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
state_dir=${OPCTL_STATE_DIR:-$repo_root/.state}
build_dir=${OPCTL_BUILD_DIR:-$repo_root/build}
bin_dir=$build_dir/bin
# OPCTL_STORE=etcd: three controllers on one etcd cluster of three members (scripts/etcd.sh), and the
# clients know all three; the default is one controller on its embedded SQLite store.
store=${OPCTL_STORE:-sqlite}
if [[ $store == etcd ]]; then
  controller_address=${OPCTL_SERVER:-127.0.0.1:7070,127.0.0.1:7071,127.0.0.1:7072}
  export OPCTL_ETCD_DIR=${OPCTL_ETCD_DIR:-$state_dir/etcd}
else
  controller_address=${OPCTL_SERVER:-127.0.0.1:7070}
fi
export OPCTL_SERVER=$controller_address
# TLS: the CA, certificates and tokens scripts/up.sh makes (scripts/gen-certs.sh); this shell's opctl
# uses the admin token.
certs_dir=$state_dir/certs
export OPCTL_CERTS=$certs_dir
export OPCTL_CA=${OPCTL_CA:-$certs_dir/ca.crt}
[[ -n ${OPCTL_TOKEN:-} || ! -f $certs_dir/admin.token ]] || export OPCTL_TOKEN=$(cat "$certs_dir/admin.token")

# Starts `name` in the background unless its pid file names a live process.
# Usage: start_service NAME COMMAND...
start_service() {
  local name=$1
  shift
  local pid_file=$state_dir/$name.pid
  if [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "$name: already running (pid $(cat "$pid_file"))"
    return 0
  fi
  mkdir -p "$state_dir/logs"
  nohup "$@" >>"$state_dir/logs/$name.log" 2>&1 &
  echo $! >"$pid_file"
  echo "$name: started (pid $!, log $state_dir/logs/$name.log)"
}

# Stops `name` with SIGTERM and waits for it to exit.
stop_service() {
  local pid_file=$state_dir/$1.pid
  [[ -f $pid_file ]] || return 0
  local pid
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    local deadline=$((SECONDS + 15))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    echo "$1: stopped"
  fi
  rm -f "$pid_file"
}

# Waits until the controller answers (up to 30 s).
wait_for_controller() {
  local deadline=$((SECONDS + 30))
  until "$bin_dir/opctl" get nodes >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then
      echo "controller at $controller_address did not answer; see $state_dir/logs/controller.log" >&2
      return 1
    fi
    sleep 0.1
  done
}
