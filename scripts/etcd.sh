#!/usr/bin/env bash
# An etcd cluster on loopback from Debian's etcd-server, for opctl's etcd store: every member has its
# own data directory and ports, and TLS both between members and toward clients (certificates from
# the project's own CA, scripts/gen-certs.sh; clients must show a certificate of that CA too).
#
#   scripts/etcd.sh up N       start members 1..N (a cluster already up is kept) and wait until healthy
#   scripts/etcd.sh down       stop every member and remove the data
#   scripts/etcd.sh halt       stop every member (SIGTERM), keeping the data: up N starts them again
#   scripts/etcd.sh kill I     SIGKILL member I          scripts/etcd.sh start I   start member I again
#   scripts/etcd.sh stop I     SIGSTOP member I          scripts/etcd.sh cont I    SIGCONT member I
#   scripts/etcd.sh endpoints  the client URLs, comma-separated (what --etcd-endpoints takes)
#
# OPCTL_ETCD_DIR (default .state/etcd) holds the data, logs and pids; OPCTL_CERTS (default
# .state/certs) the certificates; member I serves clients on OPCTL_ETCD_PORT+I (default 23790) and
# its peers on OPCTL_ETCD_PORT+100+I. Tests give each cluster its own directory and ports.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${OPCTL_ETCD_DIR:-.state/etcd}
certs=${OPCTL_CERTS:-.state/certs}
base=${OPCTL_ETCD_PORT:-23790}

client_url() { echo "https://127.0.0.1:$((base + $1))"; }
peer_url() { echo "https://127.0.0.1:$((base + 100 + $1))"; }
size() { cat "$dir/size" 2>/dev/null || { echo "etcd.sh: no cluster in $dir (scripts/etcd.sh up N)" >&2; exit 1; }; }
pid_of() { cat "$dir/m$1.pid" 2>/dev/null || true; }
# Whether PID is member I's etcd: alive, not a zombie, and still that member (pid_max is 32768 here,
# so a killed member's pid may soon be another process's, which must never be waited on or killed).
is_member() {
  [[ -n $1 && -e /proc/$1 ]] && ! grep -q '^[0-9]* ([^)]*) Z' "/proc/$1/stat" 2>/dev/null &&
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null | grep -qF -- "--data-dir $dir/m$2 "
}
running() { is_member "$(pid_of "$1")" "$1"; }
# Kills member I with SIGNAL and waits until it is gone.
kill_member() {
  local pid
  pid=$(pid_of "$1")
  is_member "$pid" "$1" || return 0
  kill -CONT "$pid" 2>/dev/null || true
  kill "-$2" "$pid" 2>/dev/null || true
  while is_member "$pid" "$1"; do sleep 0.05; done
}
endpoints() {
  local n i urls=()
  n=$(size)
  for ((i = 1; i <= n; i++)); do urls+=("$(client_url "$i")"); done
  (IFS=,; echo "${urls[*]}")
}
etcdctl_tls() {
  ETCDCTL_API=3 etcdctl --cacert "$certs/ca.crt" --cert "$certs/etcd.crt" --key "$certs/etcd.key" "$@"
}

start_member() {  # start_member I: the member's process, in the background, its log beside its data
  local i=$1 n cluster=() j
  n=$(size)
  running "$i" && return 0
  for ((j = 1; j <= n; j++)); do cluster+=("m$j=$(peer_url "$j")"); done
  local state=new
  [[ -d $dir/m$i/member ]] && state=existing
  setsid etcd --name "m$i" --data-dir "$dir/m$i" \
    --listen-client-urls "$(client_url "$i")" --advertise-client-urls "$(client_url "$i")" \
    --listen-peer-urls "$(peer_url "$i")" --initial-advertise-peer-urls "$(peer_url "$i")" \
    --initial-cluster "$(IFS=,; echo "${cluster[*]}")" --initial-cluster-state "$state" \
    --initial-cluster-token "opctl-$base" \
    --cert-file "$certs/etcd.crt" --key-file "$certs/etcd.key" --trusted-ca-file "$certs/ca.crt" \
    --client-cert-auth \
    --peer-cert-file "$certs/etcd.crt" --peer-key-file "$certs/etcd.key" \
    --peer-trusted-ca-file "$certs/ca.crt" --peer-client-cert-auth \
    --logger zap --log-outputs "$dir/m$i.log" </dev/null >>"$dir/m$i.out" 2>&1 &
  echo $! >"$dir/m$i.pid"
}

# Whether member I's own process listens on its client port: a health check that another etcd on
# the port answered (another test's member, once) says nothing of ours.
owns_port() { ss -Hltnp "sport = :$((base + $1))" 2>/dev/null | grep -q "pid=$(pid_of "$1"),"; }

# wait_healthy [I]: member I (default: every running member) answers a read through the cluster's
# quorum, within 60 s, on ports its own processes hold.
wait_healthy() {
  local deadline=$((SECONDS + 60)) n i up last=""
  n=$(size)
  while ((SECONDS < deadline)); do
    up=()
    if [[ -n ${1:-} ]]; then
      up=("$(client_url "$1")")
    else
      for ((i = 1; i <= n; i++)); do running "$i" && up+=("$(client_url "$i")"); done
    fi
    if last=$(etcdctl_tls --endpoints "$(IFS=,; echo "${up[*]}")" --command-timeout 2s endpoint health 2>&1); then
      for ((i = 1; i <= n; i++)); do
        [[ -n ${1:-} && $i != "$1" ]] && continue
        if ! running "$i"; then
          echo "etcd.sh: member $i exited: $(grep -v '"level":"info"' "$dir/m$i.log" 2>/dev/null | tail -n 2)" >&2
          exit 1
        fi
        if ! owns_port "$i"; then
          echo "etcd.sh: port $((base + i)) of member $i answers, but not from member $i's process (another etcd holds it)" >&2
          exit 1
        fi
      done
      return 0
    fi
    sleep 0.2
  done
  echo "etcd.sh: ${up[*]} of the cluster in $dir not healthy after 60 s: $last" >&2
  echo "member logs:" >&2
  for ((i = 1; i <= n; i++)); do
    tail -n 3 "$dir/m$i.out" >&2 2>/dev/null || true
    grep -v '"level":"info"' "$dir/m$i.log" 2>/dev/null | tail -n 5 >&2 || true
  done
  exit 1
}

member() {  # checks that I names a member
  local n
  n=$(size)
  [[ $1 =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= n)) || { echo "etcd.sh: no member $1 (1..$n)" >&2; exit 2; }
}

command=${1:-}
case $command in
  up)
    n=${2:?usage: scripts/etcd.sh up N}
    command -v etcd >/dev/null || { echo "etcd.sh: etcd is not installed (Debian: etcd-server)" >&2; exit 1; }
    mkdir -p "$dir"
    if [[ -f $dir/size && $(cat "$dir/size") != "$n" ]]; then
      echo "etcd.sh: $dir holds a cluster of $(cat "$dir/size"); scripts/etcd.sh down first" >&2
      exit 1
    fi
    echo "$n" >"$dir/size"
    scripts/gen-certs.sh "$certs" >/dev/null
    for ((i = 1; i <= n; i++)); do start_member "$i"; done
    wait_healthy
    endpoints
    ;;
  down)
    if [[ -f $dir/size ]]; then
      n=$(size)
      for ((i = 1; i <= n; i++)); do kill_member "$i" KILL; done
    fi
    rm -rf "$dir"
    ;;
  halt)
    n=$(size)
    for ((i = 1; i <= n; i++)); do kill_member "$i" TERM; done
    ;;
  kill) member "${2:-}"; kill_member "$2" KILL ;;
  start) member "${2:-}"; start_member "$2"; wait_healthy "$2" ;;
  stop) member "${2:-}"; running "$2" && kill -STOP "$(pid_of "$2")" ;;
  cont) member "${2:-}"; running "$2" && kill -CONT "$(pid_of "$2")" ;;
  endpoints) endpoints ;;
  *) sed -n '2,15p' "$0" >&2; exit 2 ;;
esac
