#!/usr/bin/env bash
# Builds opctl's images with no registry: mmdebstrap writes minimal Debian root filesystems with only
# the packages each image needs (the host's own apt sources file is the mirror argument), `docker
# import` makes base images of them, and `docker build` builds each Dockerfile under docker/ FROM
# those. Every image carries a label with a hash of what went into it; an image whose inputs did not
# change is not rebuilt.
#
#   scripts/build-images.sh              every image
#   scripts/build-images.sh IMAGE...     only these (and the bases they are built FROM), e.g. the
#                                        benchmarks' opctl/redis-master:7.0 opctl/toolbox:0.1
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${OPCTL_BUILD_DIR:-build}
sources=/etc/apt/sources.list.d/debian.sources
[[ -f $sources ]] || sources=/etc/apt/sources.list
cache=${OPCTL_IMAGE_CACHE:-/var/cache/opctl/rootfs}
mkdir -p "$cache"
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

# Base images: name and the Debian packages in it.
declare -A base_packages=(
  [opctl/debian-redis:bookworm]="redis-server,redis-sentinel"
  [opctl/debian-prometheus:bookworm]="prometheus,wget"
  [opctl/debian-redis-exporter:bookworm]="prometheus-redis-exporter,wget"
  [opctl/debian-toolbox:bookworm]="tar,gzip"
  [opctl/debian-server:bookworm]="libgrpc++1.51,libprotobuf32,libyaml-cpp0.7,libcurl4,libsqlite3-0,ca-certificates"
)

# Every image this script knows: tag, build context, Dockerfile.
images=(
  "opctl/redis-master:7.0 docker/redis docker/redis/master/Dockerfile"
  "opctl/redis-replica:7.0 docker/redis docker/redis/replica/Dockerfile"
  "opctl/redis-sentinel:7.0 docker/redis docker/redis/sentinel/Dockerfile"
  "opctl/toolbox:0.1 docker/toolbox docker/toolbox/Dockerfile"
  "opctl/prometheus:2.42 docker/monitoring/prometheus docker/monitoring/prometheus/Dockerfile"
  "opctl/redis-exporter:1.45 docker/monitoring/redis-exporter docker/monitoring/redis-exporter/Dockerfile"
)
declare -A wanted=()
for image in "$@"; do wanted[$image]=1; done
is_wanted_image() { ((${#wanted[@]} == 0)) || [[ -n ${wanted[$1]:-} ]]; }
# The bases the wanted images are built FROM (all of them when every image is wanted).
declare -A wanted_bases=()
for entry in "${images[@]}"; do
  read -r tag _ dockerfile <<<"$entry"
  is_wanted_image "$tag" && wanted_bases[$(awk '/^FROM/ {print $2; exit}' "$dockerfile")]=1
done
((${#wanted[@]} > 0)) || wanted_bases[opctl/debian-server:bookworm]=1

inputs_label() { docker image inspect -f '{{index .Config.Labels "opctl.io/inputs"}}' "$1" 2>/dev/null || true; }

build_base() {
  local image=$1 packages=$2
  local inputs
  inputs=$(printf '%s\n' "$image" "$packages" "minbase-nodocs-v1" | sha256sum | cut -c1-16)
  [[ $(inputs_label "$image") == "$inputs" ]] && return 0
  local tarball=$cache/${image//[\/:]/_}-$inputs.tar
  local partial=${tarball%.tar}.partial.tar  # mmdebstrap picks the output format from the extension
  local log=$logs/${image//[\/:]/_}.log
  if [[ ! -s $tarball ]]; then
    # Docs, man pages and locales are left out: nothing in a container reads them.
    mmdebstrap --quiet --variant=minbase --include="$packages" \
      --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
      --dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
      bookworm "$partial" "$sources" >"$log" 2>&1 || { cat "$log" >&2; return 1; }
    mv "$partial" "$tarball"
  fi
  docker import --change "LABEL opctl.io/inputs=$inputs" "$tarball" "$image" >/dev/null
  echo "build-images: $image (base: $packages)"
}

# Usage: build_image TAG CONTEXT DOCKERFILE
build_image() {
  local image=$1 context=$2 dockerfile=$3
  local base inputs log=$logs/${image//[\/:]/_}.log
  base=$(awk '/^FROM/ {print $2; exit}' "$dockerfile")
  inputs=$( (docker image inspect -f '{{.Id}}' "$base" 2>/dev/null || echo "$base"; tar -C "$context" -c --sort=name --mtime=@0 --owner=0 --group=0 . | sha256sum; sha256sum "$dockerfile") | sha256sum | cut -c1-16)
  if [[ $(inputs_label "$image") == "$inputs" ]]; then
    echo "build-images: $image is up to date"
    return 0
  fi
  if ! docker build --quiet --label "opctl.io/inputs=$inputs" -t "$image" -f "$dockerfile" "$context" >"$log" 2>&1; then
    echo "build-images: $image failed:" >&2
    cat "$log" >&2
    return 1
  fi
  echo "build-images: built $image"
}

# Bases are independent: build two at a time (mostly download and unpack time).
pids=()
for image in "${!base_packages[@]}"; do
  [[ -n ${wanted_bases[$image]:-} ]] || continue
  build_base "$image" "${base_packages[$image]}" &
  pids+=($!)
  if ((${#pids[@]} >= 2)); then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

for entry in "${images[@]}"; do
  read -r tag context dockerfile <<<"$entry"
  is_wanted_image "$tag" && build_image "$tag" "$context" "$dockerfile"
done
((${#wanted[@]} == 0)) || exit 0  # the server and Grafana images only in a full build

# The controller and agent image needs the host's build.
if [[ -x $build_dir/bin/opctl-controller ]]; then
  server_context=$(mktemp -d)
  mkdir -p "$server_context/bin"
  cp "$build_dir"/bin/opctl-controller "$build_dir"/bin/opctl-agent "$build_dir"/bin/opctl "$server_context/bin/"
  strip "$server_context"/bin/* 2>/dev/null || true
  build_image opctl/server:0.1 "$server_context" docker/server/Dockerfile
  rm -rf "$server_context"
fi

# Grafana builds FROM the official image, which only a registry has; none is reachable here.
if docker image inspect grafana/grafana:10.4.2 >/dev/null 2>&1; then
  build_image opctl/grafana:10.4 docker/monitoring/grafana docker/monitoring/grafana/Dockerfile
else
  echo "build-images: skipping opctl/grafana:10.4: its base grafana/grafana:10.4.2 is not on this host and no registry is reachable; the monitoring stack reports the missing image and runs without it"
fi
