#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts opctl-controller and one opctl-agent (node =
# this host's name) in the background (data and logs under .state/, or $OPCTL_STATE_DIR), applies the
# Redis and monitoring stacks, waits until they are healthy (Grafana aside: no image can be had here)
# and prints what opctl knows.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/state.sh

scripts/install-deps.sh
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j "$(nproc)" | grep -v '^ninja: no work to do' || true
scripts/build-images.sh | grep -v 'is up to date' || true

start_service controller "$bin_dir/opctl-controller" --listen "$controller_address" --data-dir "$state_dir/controller"
wait_for_controller
# This machine reaches no registry: the agent pulls only images that name one (never Docker Hub).
start_service agent "$bin_dir/opctl-agent" --controller "$controller_address" --node "$(hostname)" \
  --pull explicit-registry --backup-dir "$state_dir/backups"
"$bin_dir/opctl" apply -f manifests/redis.yaml --wait --timeout "${OPCTL_WAIT_TIMEOUT:-180s}"
# Grafana's image cannot be built here (no registry): wait for the rest of the monitoring stack.
"$bin_dir/opctl" apply -f manifests/monitoring.yaml
"$bin_dir/opctl" wait service/prometheus service/redis-exporter --timeout "${OPCTL_WAIT_TIMEOUT:-180s}"
echo
"$bin_dir/opctl" get all
