#!/usr/bin/env bash
# A dockerd of its own in a network namespace, for tests, benchmarks and the multi-host test bed: one
# way to start, wait for, empty, load and stop it, shared by tests/support/private_dockerd.cc,
# bench/lib/private-dockerd.sh and scripts/testbed.sh.
#
#   private-dockerd.sh run DIR NETNS BIP [DATA_ROOT]  becomes the dockerd (exec, in the foreground): its
#                                                     socket DIR/docker.sock, pid DIR/docker.pid,
#                                                     exec root DIR/exec, data root DATA_ROOT (DIR/data);
#                                                     NETNS is made (lo up) when missing
#   private-dockerd.sh wait DIR [SECONDS]             until it answers (default 60 s; its log's tail if not)
#   private-dockerd.sh empty DIR                      every container, volume and custom network goes
#   private-dockerd.sh load DIR IMAGE...              copies images from this machine's dockerd, in one
#                                                     archive, unless it holds the same image id
#   private-dockerd.sh stop DIR                       SIGTERM, and waits until it no longer answers
#
# nsenter, not `ip netns exec`: the latter remounts /sys and dockerd then misses the cgroup mounts.
set -euo pipefail

command=${1:?usage: private-dockerd.sh run|wait|empty|load|stop DIR ...}
dir=${2:?the directory of the dockerd}
shift 2
socket=$dir/docker.sock
on() { docker -H "unix://$socket" "$@"; }
answers() { curl -fsS --max-time 1 --unix-socket "$socket" http://localhost/_ping >/dev/null 2>&1; }

case $command in
  run)
    netns=${1:?network namespace} bip=${2:?bridge address, e.g. 10.253.0.1/24} data_root=${3:-$dir/data}
    if [[ ! -e /var/run/netns/$netns ]]; then
      ip netns add "$netns"
      ip -n "$netns" link set lo up
    fi
    mkdir -p "$dir" "$data_root"
    # A dockerd that died hard leaves its containers' network namespaces mounted under exec/.
    for mount in "$dir"/exec/netns/*; do [[ -e $mount ]] && { umount "$mount" 2>/dev/null || true; }; done
    rm -rf "$dir/exec"
    # Containers' DNS for names Docker does not know goes to this namespace's own bridge address,
    # where nothing answers: a quick failure, and no query ever leaves the machine (without it, each
    # unknown name hangs for seconds, which stalls Redis Sentinel resolving a peer that is down).
    exec nsenter --net="/var/run/netns/$netns" dockerd --data-root="$data_root" --exec-root="$dir/exec" \
      -H "unix://$socket" --pidfile="$dir/docker.pid" --bip="$bip" --dns="${bip%/*}"
    ;;
  wait)
    deadline=$((SECONDS + ${1:-60}))
    until answers; do
      if ((SECONDS >= deadline)); then
        echo "private-dockerd: $dir does not answer" >&2
        tail -20 "$dir/dockerd.log" >&2 2>/dev/null || true
        exit 1
      fi
      sleep 0.1
    done
    ;;
  empty)
    ids=$(on ps -aq)
    [[ -z $ids ]] || on rm -f $ids >/dev/null
    on volume prune -f >/dev/null
    # Every network but Docker's own (bridge, host, none): one left over would hold its subnet.
    ids=$(on network ls -q --filter type=custom)
    [[ -z $ids ]] || on network rm $ids >/dev/null
    ;;
  load)
    missing=()
    for image in "$@"; do
      [[ $(on image inspect -f '{{.Id}}' "$image" 2>/dev/null) == $(docker image inspect -f '{{.Id}}' "$image") ]] ||
        missing+=("$image")
    done
    # One archive: the layers images share are copied once.
    ((${#missing[@]} == 0)) || docker save "${missing[@]}" | on load >/dev/null
    ;;
  stop)
    [[ -f $dir/docker.pid ]] && kill "$(cat "$dir/docker.pid")" 2>/dev/null || true
    deadline=$((SECONDS + 30))
    while answers && ((SECONDS < deadline)); do sleep 0.1; done
    ;;
  *)
    sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
