# A dockerd of the benchmarks' own in network namespace opctl-bench, so the Redis stack's fixed names
# and 172.19.0.0/16 never meet a stack already running on this machine. Sourced, not executed.
# Sets BENCH_SOCKET.

BENCH_DOCKER_DIR=/tmp/opctl-dd-bench
BENCH_SOCKET=$BENCH_DOCKER_DIR/docker.sock
BENCH_NETNS=opctl-bench

bench_docker() { docker -H "unix://$BENCH_SOCKET" "$@"; }

bench_dockerd_answers() {
  curl -fsS --max-time 1 --unix-socket "$BENCH_SOCKET" http://localhost/_ping >/dev/null 2>&1
}

start_bench_dockerd() {
  bench_dockerd_answers && return 0
  ip netns delete "$BENCH_NETNS" 2>/dev/null || true
  ip netns add "$BENCH_NETNS"
  ip -n "$BENCH_NETNS" link set lo up
  mkdir -p "$BENCH_DOCKER_DIR"
  # A dockerd that died hard leaves its containers' network namespaces mounted under exec/.
  local mount
  for mount in "$BENCH_DOCKER_DIR"/exec/netns/*; do [[ -e $mount ]] && umount "$mount" 2>/dev/null || true; done
  rm -rf "$BENCH_DOCKER_DIR/exec"
  # nsenter, not `ip netns exec`: the latter remounts /sys and dockerd then misses the cgroup mounts.
  nohup nsenter --net="/var/run/netns/$BENCH_NETNS" dockerd --data-root="$BENCH_DOCKER_DIR/data" \
    --exec-root="$BENCH_DOCKER_DIR/exec" -H "unix://$BENCH_SOCKET" --pidfile="$BENCH_DOCKER_DIR/docker.pid" \
    --bip=10.253.0.1/24 >"$BENCH_DOCKER_DIR/dockerd.log" 2>&1 &
  local deadline=$((SECONDS + 60))
  until bench_dockerd_answers; do
    ((SECONDS < deadline)) || { tail -20 "$BENCH_DOCKER_DIR/dockerd.log" >&2; return 1; }
    sleep 0.2
  done
}

stop_bench_dockerd() {
  [[ -f $BENCH_DOCKER_DIR/docker.pid ]] && kill "$(cat "$BENCH_DOCKER_DIR/docker.pid")" 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  while bench_dockerd_answers && ((SECONDS < deadline)); do sleep 0.2; done
  ip netns delete "$BENCH_NETNS" 2>/dev/null || true
}

# Copies images from the host's dockerd unless the private one has the same image id, in one archive
# so that the layers they share (the Redis images') are copied once.
load_bench_images() {
  local image missing=()
  for image in "$@"; do
    [[ $(bench_docker image inspect -f '{{.Id}}' "$image" 2>/dev/null) == $(docker image inspect -f '{{.Id}}' "$image") ]] ||
      missing+=("$image")
  done
  ((${#missing[@]} == 0)) || docker save "${missing[@]}" | bench_docker load >/dev/null
}

# Everything on the private dockerd is the benchmarks': start each run from nothing but the images.
reset_bench_dockerd() {
  local ids
  ids=$(bench_docker ps -aq)
  [[ -z $ids ]] || bench_docker rm -f $ids >/dev/null
  bench_docker volume prune -f >/dev/null
  # Every network but Docker's own (bridge, host, none): one left over from an interrupted run would
  # hold its subnet, and the next run's network with that subnet could not be made.
  ids=$(bench_docker network ls -q --filter type=custom)
  [[ -z $ids ]] || bench_docker network rm $ids >/dev/null
}
