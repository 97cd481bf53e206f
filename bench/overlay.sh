#!/usr/bin/env bash
# bench/overlay.sh [--quick]: what a Network across hosts costs, on scripts/testbed.sh's two hosts.
#   1. redis-benchmark (Debian's redis-tools, in the Redis images) against one redis-server, from a
#      client on the same host (the Docker bridge alone: the floor), from a client on the other host
#      over the VXLAN overlay, and from the other host's own network to a published port (the link
#      between the hosts without the overlay), in this one run: requests/s, p50/p99 latency, ratios.
#   2. Reach: a container started on host 2, and how long after its start (Docker's StartedAt) the
#      forwarding entry for it is in place on host 1 (negative: before it started) and a client on
#      host 1 first connects to it.
# Prints one JSON line per measurement (the same shape as bench/run.sh's) and a summary. Needs root
# and a build (build/, or OPCTL_BUILD_DIR). Traffic stays on the test bed's namespaces and bridge.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
quick=false
[[ ${1:-} == --quick ]] && quick=true
requests=200000 reach_trials=10
$quick && requests=50000 reach_trials=3
bin=$PWD/${OPCTL_BUILD_DIR:-build}/bin
port=7195
work=$(mktemp -d)
certs=$work/certs
cleanup() {
  [[ -n ${controller_pid:-} ]] && kill "$controller_pid" 2>/dev/null
  OPCTL_AGENT=$bin/opctl-agent bash scripts/testbed.sh down >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

scripts/gen-certs.sh "$certs" >/dev/null
TESTBED_IMAGES="opctl/redis-master:7.0" OPCTL_AGENT=$bin/opctl-agent \
  bash scripts/testbed.sh up 2 --controller "10.231.0.1:$port" --certs "$certs" >/dev/null
"$bin/opctl-controller" --listen "10.231.0.1:$port" --data-dir "$work/controller" --tls-cert "$certs/controller.crt" \
  --tls-key "$certs/controller.key" --tls-client-ca "$certs/ca.crt" --tokens "$certs/tokens.csv" >"$work/controller.log" 2>&1 &
controller_pid=$!
printf 'server: 10.231.0.1:%s\nca: %s\ntoken: %s\n' "$port" "$certs/ca.crt" "$(cat "$certs/admin.token")" >"$work/config"
opctl() { OPCTL_CONFIG=$work/config "$bin/opctl" "$@"; }
tb() { bash scripts/testbed.sh "$@"; }

# A redis-server on host 1; a client on each host; all on one Network.
service() {  # NAME HOST ADDRESS COMMAND...
  local name=$1 host=$2 address=$3
  shift 3
  printf -- '---\napiVersion: opctl.io/v1\nkind: Service\nmetadata: {name: %s, stack: overlay}\nspec:\n  replicas: 1\n  nodeSelector: {testbed.opctl.io/host: host%s}\n  network: {name: bench-net, addresses: [%s]}\n  template:\n    image: opctl/redis-master:7.0\n    user: "0"\n    command: [%s]\n' \
    "$name" "$host" "$address" "$(printf '"%s", ' "$@" | sed 's/, $//')"
  # The server is also published on host 1's own address: the link between the hosts without the
  # overlay, for the floor of what crossing hosts costs.
  [[ $name != server ]] || printf '    ports: [{containerPort: 6379, hostPort: 6379, hostIp: 10.231.0.11}]\n'
}
{
  printf 'apiVersion: opctl.io/v1\nkind: Network\nmetadata: {name: bench-net, stack: overlay}\nspec: {subnet: 172.30.0.0/16}\n'
  service server 1 172.30.0.10 redis-server --port 6379 --protected-mode no --save "" --appendonly no
  service near 1 172.30.0.11 sleep infinity
  service far 2 172.30.0.12 sleep infinity
} >"$work/bench.yaml"
deadline=$((SECONDS + 60))
until opctl apply -f "$work/bench.yaml" >/dev/null 2>&1; do ((SECONDS < deadline)) || { echo "overlay: no controller" >&2; exit 1; }; sleep 0.5; done
opctl wait service/server service/near service/far --timeout 120s >/dev/null

# 1. redis-benchmark: CSV lines "test","rps","avg","min","p50","p95","p99","max".
summary() { awk -F'"' '/^"(SET|GET)"/ {rps += $4; p50 += $10; p99 += $14; n++} END {printf "%.0f %.3f %.3f", rps/n, p50/n, p99/n}'; }
benchmark() {  # HOST CONTAINER -> "rps p50 p99" of SET and GET together (their mean)
  tb docker "$1" exec "$2" redis-benchmark -h 172.30.0.10 -t set,get -n "$requests" -c 50 -P 1 --csv 2>/dev/null | summary
}
read -r near_rps near_p50 near_p99 <<<"$(benchmark 1 near-0)"
read -r far_rps far_p50 far_p99 <<<"$(benchmark 2 far-0)"
# The same client on host 2's own network (a plain docker run, not opctl's) to the published port.
read -r link_rps link_p50 link_p99 <<<"$(tb docker 2 run --rm --network host --entrypoint redis-benchmark \
  opctl/redis-master:7.0 -h 10.231.0.11 -t set,get -n "$requests" -c 50 -P 1 --csv 2>/dev/null | summary)"
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a / b}'; }
echo "{\"bench\":\"overlay\",\"case\":\"redis-benchmark same host\",\"requests_per_second\":$near_rps,\"p50_ms\":$near_p50,\"p99_ms\":$near_p99}"
echo "{\"bench\":\"overlay\",\"case\":\"redis-benchmark across hosts, published port\",\"requests_per_second\":$link_rps,\"p50_ms\":$link_p50,\"p99_ms\":$link_p99,\"throughput_ratio\":$(ratio "$link_rps" "$near_rps")}"
echo "{\"bench\":\"overlay\",\"case\":\"redis-benchmark across hosts\",\"requests_per_second\":$far_rps,\"p50_ms\":$far_p50,\"p99_ms\":$far_p99,\"throughput_ratio\":$(ratio "$far_rps" "$near_rps"),\"p50_ratio\":$(ratio "$far_p50" "$near_p50"),\"p99_ratio\":$(ratio "$far_p99" "$near_p99")}"

# 2. Reach: a container on host 2 at a fresh address each trial, watched from host 1.
entries=() reaches=()
for ((trial = 1; trial <= reach_trials; trial++)); do
  address=172.30.1.$trial
  mac=$(printf '02:42:ac:1e:01:%02x' "$trial")
  service "target$trial" 2 "$address" redis-server --port 6379 --protected-mode no --save "" >"$work/target.yaml"
  # The watchers start first: each prints the wall clock (ns) when it first sees its condition.
  nsenter --net=/var/run/netns/opctl-tb-1 sh -c "until bridge fdb show | grep -q '$mac dev opx-.* dst'; do :; done; date +%s%N" >"$work/entry" &
  watch_entry=$!
  tb docker 1 exec near-0 sh -c "until timeout 1 redis-cli -h $address ping >/dev/null 2>&1; do :; done; date +%s%N" >"$work/reach" &
  watch_reach=$!
  opctl apply -f "$work/target.yaml" >/dev/null
  wait "$watch_entry" "$watch_reach"
  started=$(date -d "$(tb docker 2 inspect -f '{{.State.StartedAt}}' "target$trial-0")" +%s%N)
  entries+=("$(( ($(cat "$work/entry") - started) / 1000000 ))")
  reaches+=("$(( ($(cat "$work/reach") - started) / 1000000 ))")
  opctl delete service "target$trial" >/dev/null
done
median() { printf '%s\n' "$@" | sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
max() { printf '%s\n' "$@" | sort -n | tail -1; }
echo "{\"bench\":\"overlay\",\"case\":\"reach after start\",\"trials\":$reach_trials,\"entry_in_place_ms_p50\":$(median "${entries[@]}"),\"entry_in_place_ms_max\":$(max "${entries[@]}"),\"first_connect_ms_p50\":$(median "${reaches[@]}"),\"first_connect_ms_max\":$(max "${reaches[@]}")}"
echo "overlay: across hosts $(ratio "$far_rps" "$near_rps")x the same-host requests/s (goal >= 0.8; the same link without the overlay, to a published port: $(ratio "$link_rps" "$near_rps")x, so the overlay itself $(ratio "$far_rps" "$link_rps")x), p50 $(ratio "$far_p50" "$near_p50")x, p99 $(ratio "$far_p99" "$near_p99")x; the entry on host 1 in place $(median "${entries[@]}") ms after the start (max $(max "${entries[@]}")), first connect $(median "${reaches[@]}") ms (max $(max "${reaches[@]}"))"
