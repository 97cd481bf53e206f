#!/usr/bin/env bash
# bench/run.sh [--quick]: opctl side by side with docker-compose (Debian's) and the raw Docker API,
# all measured in this one run on a private dockerd, then one table. Results: bench/results/<time>.jsonl
# (one JSON line per measurement) and bench/results/<time>.md (the table, as BENCHMARKS.md shows it).
#
#   1. converge   the seed's Redis stack: to all running and all healthy; no-op re-apply; one env change
#   2. scale      10, 50 and 100 containers of a small image
#   3. heal       docker rm -f and docker kill: until running again, next to a plain create+start
#   4. control plane: K simulated agents and M containers against a real controller, on SQLite and on
#                 a three-member etcd cluster (with `etcdctl check perf` as etcd's own floor), and
#                 controller failover on etcd: kill -9 of the leader to the next write and heal
#   5. footprint  the agent's memory and CPU while idle with 50 containers
# --quick: fewer runs and sizes (a smoke run; numbers are noisier).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
quick=false
[[ ${1:-} == --quick ]] && quick=true

if $quick; then
  runs=1 scale_runs=1 sizes="10" heal_trials=5 footprint_seconds=5 fleets="10:1000" etcd_fleets="10:1000"
  failover_trials=3
else
  # K agents : M containers: each K and each M once (1000 agents with 100 000 containers takes 11
  # minutes alone; BENCHMARKS.md gives that run's command and numbers).
  # One scale run per size: Docker on two cores starts about two containers a second, so 100
  # containers three ways take minutes.
  runs=5 scale_runs=1 sizes="10 50 100" heal_trials=20 footprint_seconds=60 fleets="10:1000 100:1000 1000:1000 100:10000 100:100000"
  # On etcd, the issue's K=100 M=10 000 (and the small case to compare with --quick).
  etcd_fleets="10:1000 100:10000" failover_trials=10
fi

# phase NAME: prints how long the previous phase took, so a slow phase shows in the log.
phase_started=$SECONDS phase_name=""
phase() {
  [[ -z $phase_name ]] || echo "  ($phase_name took $((SECONDS - phase_started)) s)"
  phase_started=$SECONDS phase_name=$1
}

# --- set-up: packages, build, images, a private dockerd, a controller and an agent ------------------
phase "packages"
scripts/install-deps.sh >/dev/null
command -v docker-compose >/dev/null || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
phase "build and images"
build_dir=${OPCTL_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
scripts/build-test-image.sh >/dev/null
# Only the images measured here (the monitoring and server images would add minutes on a fresh
# machine), made while the compiler has the cores: they are mostly downloading and unpacking.
bench_images=(opctl/redis-master:7.0 opctl/redis-replica:7.0 opctl/redis-sentinel:7.0 opctl/toolbox:0.1)
images_log=$(mktemp)
scripts/build-images.sh "${bench_images[@]}" >"$images_log" 2>&1 &
images=$!
# Only what runs here: the test binaries are half the build and play no part.
cmake --build "$build_dir" -j "$(nproc)" --target opctl-controller opctl-agent opctl opctl-bench >/dev/null
wait "$images" || { cat "$images_log" >&2; exit 1; }
rm -f "$images_log"
bin=$root/$build_dir/bin
phase "benchmark dockerd"
source bench/lib/private-dockerd.sh
start_bench_dockerd
reset_bench_dockerd
load_bench_images "${bench_images[@]}" opctl/busybox:test

work=$(mktemp -d /tmp/opctl-bench-XXXXXX)
port=7170
# Plaintext (--insecure) on loopback: what is measured is orchestration; TLS costs one handshake per connection.
"$bin/opctl-controller" --listen "127.0.0.1:$port" --data-dir "$work/controller" --insecure >"$work/controller.log" 2>&1 &
controller_pid=$!
"$bin/opctl-agent" --controller "127.0.0.1:$port" --insecure --node bench --docker-socket "$BENCH_SOCKET" --pull never \
  --backup-dir "$work/backups" >"$work/agent.log" 2>&1 &
agent_pid=$!
cleanup() {
  OPCTL_ETCD_DIR=$work/etcd scripts/etcd.sh down 2>/dev/null || true
  kill "$agent_pid" "$controller_pid" 2>/dev/null || true
  # Only these two: a bare `wait` would also wait for the benchmark's own dockerd, a child of this
  # shell too, which stop_bench_dockerd below is what stops (the run never ended).
  wait "$agent_pid" "$controller_pid" 2>/dev/null || true
  stop_bench_dockerd
}
trap cleanup EXIT
export OPCTL_SERVER=127.0.0.1:$port OPCTL_INSECURE=1
opctl() { "$bin/opctl" "$@"; }
until opctl get nodes -o name 2>/dev/null | grep -q node/bench; do sleep 0.1; done

stamp=$(date -u +%Y%m%dT%H%M%SZ)
setup_seconds=$SECONDS
mkdir -p bench/results
results=bench/results/$stamp.jsonl
: >"$results"
# record BENCH CASE TOOL JSON: one tagged line in the results.
record() { echo "$4" | sed "s/^{/{\"bench\":\"$1\",\"case\":\"$2\",\"tool\":\"$3\",/" >>"$results"; echo "  $1/$2/$3: $4"; }
compose() { DOCKER_HOST=unix://$BENCH_SOCKET docker-compose "$@" 2>/dev/null; }
# docker-compose's default 60 s HTTP timeout fails `up --scale web=100` on this machine (dockerd queues
# the creates): give it room, so the table shows its time rather than its timeout.
export COMPOSE_HTTP_TIMEOUT=600

# The seed's stack, without the hourly backup (compose has none; it would only add work to opctl's
# runs), and for all three tools with health checks every 1 s instead of 5 s: at 5 s, "all healthy" is
# mostly the wait for the first check, the same for every tool, and 5 runs of 3 tools spent minutes
# in it.
sed -e '/^  backup:/,/^    keep:/d' -e 's/interval: 5s/interval: 1s/' manifests/redis.yaml >"$work/redis.yaml"
sed 's/interval: 5s/interval: 1s/' bench/compose/redis.yml >"$work/redis.yml"

# Waits until the private dockerd holds no container, volume or network of a stack's label.
wait_clean() {
  local label=$1
  until [[ -z $(bench_docker ps -aq --filter "label=$label") && -z $(bench_docker volume ls -q --filter "label=$label") ]]; do
    sleep 0.1
  done
}
clean_opctl() {
  local stack=$1 file=$2 name
  # Services first (their containers go), then the volumes with their data, then the rest.
  for name in $(opctl get services --stack "$stack" -o name 2>/dev/null); do opctl delete "$name" >/dev/null; done
  for name in $(opctl get volumes --stack "$stack" -o name 2>/dev/null); do
    opctl delete "$name" --delete-data --ignore-not-found >/dev/null
  done
  opctl delete -f "$file" --ignore-not-found >/dev/null 2>&1 || true
  wait_clean "opctl.io/stack=$stack"
  until [[ -z $(bench_docker network ls -q --filter "label=opctl.io/stack=$stack") ]]; do sleep 0.1; done
}
# -t 0: the busybox `sleep` ignores SIGTERM, so each container would wait out compose's 10 s stop timeout.
clean_compose() { compose -p "$1" -f "$2" down -v -t 0 --remove-orphans >/dev/null 2>&1 || true; }
clean_raw() { "$bin/opctl-bench" raw-clean --socket "$BENCH_SOCKET"; }
# A converge that never gets there stops the whole run (it runs inside $(...), where set -e cannot
# see it), with the agent's last words, instead of waiting out every later timeout.
abort_run() {
  echo "bench: $1; the agent's log ends:" >&2
  tail -20 "$work/agent.log" >&2
  kill -TERM $$
}
converge() { "$bin/opctl-bench" converge --socket "$BENCH_SOCKET" "$@" || abort_run "converge $* did not finish"; }

# --- 1. converge ------------------------------------------------------------------------------------
phase "converge"
echo "1. converge: the Redis stack, $runs run(s) per tool, alternating"
redis_labels=(opctl opctl.io/stack=redis compose com.docker.compose.project=redisbench raw opctl.io/node=raw-bench)
for ((run = 1; run <= runs; run++)); do
  clean_opctl redis "$work/redis.yaml"
  record converge redis opctl "$(converge --label opctl.io/stack=redis --count 6 -- "$bin/opctl" apply -f "$work/redis.yaml")"
  record converge no-op-reapply opctl "$(converge --label opctl.io/stack=redis --count 6 -- "$bin/opctl" apply -f "$work/redis.yaml")"
  sed "s/      - {name: REDIS_MASTER_HOST, value: 172.19.0.2}/&\n      - {name: BENCH_CHANGE, value: \"$run\"}/" \
    "$work/redis.yaml" | awk 'BEGIN{n=0} /BENCH_CHANGE/{n++; if(n>1) next} {print}' >"$work/redis-changed.yaml"
  record converge env-change opctl "$(converge --label opctl.io/stack=redis --count 6 --recreated redis-master-0 -- "$bin/opctl" apply -f "$work/redis-changed.yaml")"
  clean_opctl redis "$work/redis.yaml"

  clean_compose redisbench "$work/redis.yml"
  record converge redis compose "$(converge --label com.docker.compose.project=redisbench --count 6 -- env DOCKER_HOST=unix://$BENCH_SOCKET docker-compose -p redisbench -f "$work/redis.yml" up -d)"
  record converge no-op-reapply compose "$(converge --label com.docker.compose.project=redisbench --count 6 -- env DOCKER_HOST=unix://$BENCH_SOCKET docker-compose -p redisbench -f "$work/redis.yml" up -d)"
  record converge env-change compose "$(converge --label com.docker.compose.project=redisbench --count 6 --recreated redis-master-0 -- env DOCKER_HOST=unix://$BENCH_SOCKET BENCH_CHANGE=$run docker-compose -p redisbench -f "$work/redis.yml" up -d)"
  clean_compose redisbench "$work/redis.yml"

  clean_raw
  record converge redis raw "$("$bin/opctl-bench" raw-converge --socket "$BENCH_SOCKET" -f "$work/redis.yaml")"
  clean_raw
done

# --- 2. scale ---------------------------------------------------------------------------------------
phase "scale"
echo "2. scale: $sizes containers, $scale_runs run(s) each (5. footprint measured on the 50, idle, ${footprint_seconds}s)"
footprint_done=false
for size in $sizes; do
  sed "s/replicas: 1/replicas: $size/" bench/manifests/small.yaml >"$work/small.yaml"
  # 100 containers three ways take about six minutes here: once is what the 30-minute budget allows.
  size_runs=$scale_runs
  ((size < 100)) || size_runs=1
  for ((run = 1; run <= size_runs; run++)); do
    clean_opctl small "$work/small.yaml"
    record scale "$size" opctl "$(converge --label opctl.io/stack=small --count "$size" -- "$bin/opctl" apply -f "$work/small.yaml")"
    if ((size == 50 && run == 1)); then
      # 5. The agent's footprint while idle with these 50 containers (measured here, not after
      # starting 50 more: that took a minute).
      record footprint "agent, 50 containers" opctl "$("$bin/opctl-bench" footprint --pid "$agent_pid" --seconds "$footprint_seconds")"
      footprint_done=true
    fi
    clean_opctl small "$work/small.yaml"
    clean_compose small bench/compose/small.yml
    record scale "$size" compose "$(converge --label com.docker.compose.project=small --count "$size" -- env DOCKER_HOST=unix://$BENCH_SOCKET docker-compose -p small -f bench/compose/small.yml up -d --scale "web=$size")"
    clean_compose small bench/compose/small.yml
    clean_raw
    record scale "$size" raw "$("$bin/opctl-bench" raw-converge --socket "$BENCH_SOCKET" -f "$work/small.yaml")"
    clean_raw
  done
done

# --- 3. heal ----------------------------------------------------------------------------------------
phase "heal"
echo "3. heal: $heal_trials trials each"
sed "s/replicas: 1/replicas: 1/" bench/manifests/small.yaml >"$work/small.yaml"
converge --label opctl.io/stack=small --count 1 -- "$bin/opctl" apply -f "$work/small.yaml" >/dev/null
for how in rm kill; do
  record heal "docker $how" opctl "$("$bin/opctl-bench" heal --socket "$BENCH_SOCKET" --container web-0 --how "$how" --trials "$heal_trials")"
done
clean_opctl small "$work/small.yaml"
for how in rm kill; do
  compose -p small -f bench/compose/small.yml up -d >/dev/null  # compose does not bring back a removed one
  record heal "docker $how" compose "$("$bin/opctl-bench" heal --socket "$BENCH_SOCKET" --container small_web_1 --how "$how" --trials "$heal_trials")"
done
clean_compose small bench/compose/small.yml
record heal "plain create+start" raw "$("$bin/opctl-bench" plain-run --socket "$BENCH_SOCKET" --trials "$heal_trials")"

# --- 5. footprint (here only when the scale runs had no 50) ------------------------------------------
if ! $footprint_done; then
  phase "footprint"
  echo "5. footprint: the agent with 50 containers, ${footprint_seconds}s"
  sed "s/replicas: 1/replicas: 50/" bench/manifests/small.yaml >"$work/small.yaml"
  converge --label opctl.io/stack=small --count 50 -- "$bin/opctl" apply -f "$work/small.yaml" >/dev/null
  record footprint "agent, 50 containers" opctl "$("$bin/opctl-bench" footprint --pid "$agent_pid" --seconds "$footprint_seconds")"
  clean_opctl small "$work/small.yaml"
fi

# --- 4. control plane ------------------------------------------------------------------------------
phase "control plane"
echo "4. control plane: K agents : M containers = $fleets"
for fleet in $fleets; do
  fleet_started=$SECONDS
  record control-plane "K=${fleet%:*} M=${fleet#*:}" opctl "$("$bin/opctl-bench" control-plane --agents "${fleet%:*}" --containers "${fleet#*:}")"
  echo "  (K=${fleet%:*} M=${fleet#*:} took $((SECONDS - fleet_started)) s)"
done
# The metrics' own cost: the first fleet again with the controller serving no /metrics (the runs
# above serve it and are scraped every second).
metrics_fleet=${fleets%% *}
record control-plane "K=${metrics_fleet%:*} M=${metrics_fleet#*:}" "opctl, metrics off" \
  "$("$bin/opctl-bench" control-plane --agents "${metrics_fleet%:*}" --containers "${metrics_fleet#*:}" --metrics off)"

# On etcd: three members on loopback (TLS, the project's CA), the same fleets, then failover.
export OPCTL_ETCD_DIR=$work/etcd OPCTL_CERTS=$work/certs OPCTL_ETCD_PORT=27790
endpoints=$(scripts/etcd.sh up 3)
etcd_flags=(--etcd-endpoints "$endpoints" --etcd-certs "$work/certs")
for fleet in $etcd_fleets; do
  fleet_started=$SECONDS
  record control-plane "K=${fleet%:*} M=${fleet#*:}" "opctl on etcd" "$("$bin/opctl-bench" control-plane --agents "${fleet%:*}" --containers "${fleet#*:}" "${etcd_flags[@]}")"
  echo "  (etcd K=${fleet%:*} M=${fleet#*:} took $((SECONDS - fleet_started)) s)"
done
# etcd's own floor on the same members and disk: its small-load check (60 s, 150 writes/s asked).
perf=$(ETCDCTL_API=3 etcdctl --cacert "$work/certs/ca.crt" --cert "$work/certs/controller.crt" \
  --key "$work/certs/controller.key" --endpoints "$endpoints" check perf --load s 2>&1 | tr '\r' '\n' || true)
throughput=$(grep -oE 'Throughput is [0-9]+' <<<"$perf" | grep -oE '[0-9]+$' || echo 0)
slowest=$(grep -oE 'Slowest request took [0-9.]+' <<<"$perf" | grep -oE '[0-9.]+$' || echo 0)
record etcd-floor "check perf --load s" etcdctl "{\"writes_per_second\":$throughput,\"slowest_s\":$slowest}"
record failover "kill -9 of the leader, 3 controllers" "opctl on etcd" "$("$bin/opctl-bench" failover "${etcd_flags[@]}" --trials "$failover_trials")"
scripts/etcd.sh down

phase ""

# --- the table --------------------------------------------------------------------------------------
{
  echo "Run $stamp on $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(docker version -f 'Docker {{.Server.Version}}'), $(docker-compose version --short 2>/dev/null | sed 's/^/docker-compose /')$($quick && echo ', --quick')."
  echo
  "$bin/opctl-bench" report "$results"
} >"bench/results/$stamp.md"
cat "bench/results/$stamp.md"
echo "results: $results, bench/results/$stamp.md"
echo "took $((SECONDS / 60)) min $((SECONDS % 60)) s: set-up (packages, build, images) $((setup_seconds / 60)) min $((setup_seconds % 60)) s, measuring $(((SECONDS - setup_seconds) / 60)) min $(((SECONDS - setup_seconds) % 60)) s"
