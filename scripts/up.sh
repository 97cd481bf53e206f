#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts opctl-controller in the background (data and
# logs under .state/, or $OPCTL_STATE_DIR), applies the Redis stack and prints what opctl knows.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/state.sh

scripts/install-deps.sh
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j "$(nproc)" | grep -v '^ninja: no work to do' || true

start_service controller "$bin_dir/opctl-controller" --listen "$controller_address" --data-dir "$state_dir/controller"
wait_for_controller
"$bin_dir/opctl" apply -f manifests/redis.yaml
echo
"$bin_dir/opctl" get all
