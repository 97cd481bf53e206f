# A dockerd of the benchmarks' own in network namespace opctl-bench, so the Redis stack's fixed names
# and 172.19.0.0/16 never meet a stack already running on this machine (scripts/private-dockerd.sh
# runs it). Sourced, not executed. Sets BENCH_SOCKET.

BENCH_DOCKER_DIR=/tmp/opctl-dd-bench
BENCH_SOCKET=$BENCH_DOCKER_DIR/docker.sock
BENCH_NETNS=opctl-bench

bench_docker() { docker -H "unix://$BENCH_SOCKET" "$@"; }

start_bench_dockerd() {
  curl -fsS --max-time 1 --unix-socket "$BENCH_SOCKET" http://localhost/_ping >/dev/null 2>&1 && return 0
  mkdir -p "$BENCH_DOCKER_DIR"
  nohup scripts/private-dockerd.sh run "$BENCH_DOCKER_DIR" "$BENCH_NETNS" 10.253.0.1/24 \
    >"$BENCH_DOCKER_DIR/dockerd.log" 2>&1 &
  scripts/private-dockerd.sh wait "$BENCH_DOCKER_DIR"
}

stop_bench_dockerd() {
  scripts/private-dockerd.sh stop "$BENCH_DOCKER_DIR"
  ip netns delete "$BENCH_NETNS" 2>/dev/null || true
}

load_bench_images() { scripts/private-dockerd.sh load "$BENCH_DOCKER_DIR" "$@"; }

# Everything on the private dockerd is the benchmarks': start each run from nothing but the images.
reset_bench_dockerd() { scripts/private-dockerd.sh empty "$BENCH_DOCKER_DIR"; }
