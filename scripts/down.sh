#!/usr/bin/env bash
# Stops what scripts/up.sh started. The stacks' containers keep running unless --purge is given,
# which deletes the stacks first.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/state.sh

if [[ ${1:-} == --purge ]]; then
  for manifest in manifests/*.yaml; do
    "$bin_dir/opctl" delete -f "$manifest" --ignore-not-found || true
  done
fi
stop_service agent
stop_service controller
