#!/usr/bin/env bash
# A multi-host test bed on one machine: N real Docker hosts, each a dockerd in its own network
# namespace (opctl-tb-I; scripts/private-dockerd.sh runs it) with its own data root, exec root, socket
# and container address range, joined by a veth to bridge opctl-tb0 (10.231.0.1/24 on this side), and
# an opctl-agent running inside that namespace, so cutting a host's link cuts its agent too. The
# controller runs on the bridge side.
#
#   scripts/testbed.sh up N [--controller 10.231.0.1:PORT] [--certs DIR]
#                                                            hosts 1..N, agents following that controller,
#                                                            over TLS with certificates from DIR
#                                                            (scripts/gen-certs.sh; without: --insecure)
#   scripts/testbed.sh down                                  agents, dockerds, namespaces and bridge go
#   scripts/testbed.sh agent-kill I | agent-start I          kill -9 / start host I's agent
#   scripts/testbed.sh link-down I | link-up I               cut / restore host I's link to the bridge
#   scripts/testbed.sh docker-restart I                      stop host I's dockerd and start it again
#   scripts/testbed.sh docker I ARGS...                      docker against host I's engine
#   scripts/testbed.sh status
#
# Images reach the hosts by `docker save | docker load` from this machine's dockerd (TESTBED_IMAGES,
# default opctl/busybox:test), skipped when a host already has the same image id. A registry on the
# bridge (Debian's docker-registry) would be closer to production, but every host would then need it
# configured as an insecure registry and every image pushed first; save/load gives the same result
# with nothing to configure. Traffic stays on these namespaces, the bridge and loopback.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bridge=opctl-tb0
bridge_address=10.231.0.1
run_dir=/run/opctl-testbed
data_dir=/var/lib/opctl-testbed
images=${TESTBED_IMAGES:-opctl/busybox:test}
agent_bin=${OPCTL_AGENT:-$root/build/bin/opctl-agent}
launched=()  # hosts whose dockerd this run started

host_dir() { echo "$run_dir/host$1"; }
socket_of() { echo "$(host_dir "$1")/docker.sock"; }
netns_of() { echo "opctl-tb-$1"; }
address_of() { echo "10.231.0.$((10 + $1))"; }
host_docker() {
  local i=$1
  shift
  docker -H "unix://$(socket_of "$i")" "$@"
}
answers() { curl -fsS --max-time 1 --unix-socket "$(socket_of "$1")" http://localhost/_ping >/dev/null 2>&1; }
hosts() { ls -d "$run_dir"/host* 2>/dev/null | sed 's/.*host//' | sort -n; }

# The hosts talk to each other across the bridge (agents ask their peers before fencing), as machines
# on one LAN do. This machine's own dockerd sets FORWARD's policy to DROP, and bridged frames pass
# iptables (br_netfilter): let the bridge's own traffic through, first in the chain.
forward_rule=(FORWARD -i "$bridge" -o "$bridge" -j ACCEPT)
ensure_bridge() {
  ip link show "$bridge" >/dev/null 2>&1 || ip link add "$bridge" type bridge
  [[ $(ip -4 addr show dev "$bridge") == *"$bridge_address/24"* ]] || ip addr add "$bridge_address/24" dev "$bridge"
  ip link set "$bridge" up
  iptables -C "${forward_rule[@]}" 2>/dev/null || iptables -I "${forward_rule[@]}"
}

start_host() {
  local i=$1 ns dir
  ns=$(netns_of "$i")
  dir=$(host_dir "$i")
  mkdir -p "$dir" "$data_dir/host$i"
  if [[ ! -e /var/run/netns/$ns ]]; then
    ip netns add "$ns"
    ip -n "$ns" link set lo up
    ip link add "tb$i-br" type veth peer name eth0 netns "$ns"
    ip link set "tb$i-br" master "$bridge" up
    ip -n "$ns" addr add "$(address_of "$i")/24" dev eth0
    ip -n "$ns" link set eth0 up
  fi
  answers "$i" && return 0
  launched+=("$i")
  nohup "$root/scripts/private-dockerd.sh" run "$dir" "$ns" "10.232.$i.1/24" "$data_dir/host$i" \
    >"$dir/dockerd.log" 2>&1 &
}

wait_host() { "$root/scripts/private-dockerd.sh" wait "$(host_dir "$1")"; }

load_images() {
  # shellcheck disable=SC2086  # the list is words
  "$root/scripts/private-dockerd.sh" load "$(host_dir "$1")" $images
}

# Waits (30 s at most) until host I's dockerd and its containerd are gone, then kills what is left:
# a new dockerd on the same data root cannot start while the old containerd holds its database.
wait_host_gone() {
  local i=$1 deadline=$((SECONDS + 30))
  local dockerd="--data-root=$data_dir/host$i " containerd="$(host_dir "$i")/exec/containerd"
  while ((SECONDS < deadline)); do
    pgrep -f -- "$dockerd" >/dev/null || pgrep -f -- "$containerd" >/dev/null || return 0
    sleep 0.1
  done
  pkill -9 -f -- "$dockerd" || true
  pkill -9 -f -- "$containerd" || true
  while pgrep -f -- "$dockerd" >/dev/null || pgrep -f -- "$containerd" >/dev/null; do sleep 0.1; done
}

# Host I's dockerd stopped and started again, as a dockerd restart on a real host: its containers stop
# and their restart policy brings them back.
docker_restart() {
  "$root/scripts/private-dockerd.sh" stop "$(host_dir "$1")"
  wait_host_gone "$1"
  start_host "$1"
  wait_host "$1"
}

empty_host() { "$root/scripts/private-dockerd.sh" empty "$(host_dir "$1")"; }

agent_start() {
  local i=$1 dir controller certs tls=(--insecure)
  dir=$(host_dir "$i")
  controller=$(cat "$run_dir/controller")
  certs=$(cat "$run_dir/certs" 2>/dev/null || true)
  if [[ -n $certs ]]; then
    "$root/scripts/gen-certs.sh" "$certs" "host$i"
    tls=(--tls-ca="$certs/ca.crt" --tls-cert="$certs/agent-host$i.crt" --tls-key="$certs/agent-host$i.key")
  fi
  agent_stop "$i"
  nohup nsenter --net="/var/run/netns/$(netns_of "$i")" "$agent_bin" --controller="$controller" --node="host$i" "${tls[@]}" \
    --labels="testbed.opctl.io/host=host$i,zone=z$i" --docker-socket="$(socket_of "$i")" --pull=never \
    --listen="$(address_of "$i"):0" --backup-dir="$dir/backups" >>"$dir/agent.log" 2>&1 &
  echo $! >"$dir/agent.pid"
}

agent_stop() {
  local pid_file
  pid_file=$(host_dir "$1")/agent.pid
  [[ -f $pid_file ]] || return 0
  kill -9 "$(cat "$pid_file")" 2>/dev/null || true
  rm -f "$pid_file"
}

up() {
  local count=$1
  shift
  local controller="$bridge_address:7190" certs=""
  while (($#)); do
    case $1 in
      --controller) controller=$2 ;;
      --certs) certs=$2 ;;
      *) echo "testbed: unknown option $1" >&2; exit 2 ;;
    esac
    shift 2
  done
  [[ -x $agent_bin ]] || { echo "testbed: $agent_bin missing (build first)" >&2; exit 1; }
  mkdir -p "$run_dir"
  echo "$controller" >"$run_dir/controller"
  echo "$certs" >"$run_dir/certs"
  ensure_bridge
  local i
  for ((i = 1; i <= count; i++)); do start_host "$i"; done
  for ((i = 1; i <= count; i++)); do wait_host "$i"; done
  # A dockerd started now on a data root that an earlier bed, killed midway, left: its containers,
  # volumes and networks belong to no agent of this bed.
  for i in "${launched[@]}"; do empty_host "$i"; done
  local loads=()
  for ((i = 1; i <= count; i++)); do
    load_images "$i" &
    loads+=($!)
  done
  wait "${loads[@]}"  # not a bare wait: the dockerds are children too
  for ((i = 1; i <= count; i++)); do agent_start "$i"; done
  echo "testbed: $count hosts up; agents follow $controller"
}

down() {
  local i dir
  for i in $(hosts); do
    dir=$(host_dir "$i")
    agent_stop "$i"
    if answers "$i"; then empty_host "$i" || true; fi
    [[ -f $dir/docker.pid ]] && kill "$(cat "$dir/docker.pid")" 2>/dev/null || true
  done
  # A dockerd that never got as far as its pid file (its containerd would not start) is still one of ours.
  pkill -f -- "--data-root=$data_dir/host" 2>/dev/null || true
  for i in $(hosts); do
    wait_host_gone "$i"
    ip netns delete "$(netns_of "$i")" 2>/dev/null || true
    ip link delete "tb$i-br" 2>/dev/null || true
    # A dockerd killed before it cleaned up leaves its network namespace's mount under its exec root.
    findmnt -rn -o TARGET | grep "^$(host_dir "$i")/" | sort -r | xargs -r umount -l || true
    rm -rf "$(host_dir "$i")"
  done
  ip link delete "$bridge" 2>/dev/null || true
  while iptables -D "${forward_rule[@]}" 2>/dev/null; do :; done
  echo "testbed: down"
}

command=${1:-}
shift || true
case $command in
  up) up "${1:?usage: testbed.sh up N}" "${@:2}" ;;
  down) down ;;
  agent-kill) agent_stop "$1" ;;
  agent-start) agent_start "$1" ;;
  docker-restart) docker_restart "$1" ;;
  link-down) ip link set "tb$1-br" down ;;
  link-up) ip link set "tb$1-br" up ;;
  docker) host_docker "$@" ;;
  status)
    for i in $(hosts); do
      agent=down
      [[ -f $(host_dir "$i")/agent.pid ]] && kill -0 "$(cat "$(host_dir "$i")/agent.pid")" 2>/dev/null && agent=up
      echo "host$i $(address_of "$i") docker=$(answers "$i" && echo up || echo down) agent=$agent"
    done
    ;;
  *)
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
