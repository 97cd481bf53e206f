#!/usr/bin/env bash
# Stops what scripts/up.sh started. The stacks' containers keep running unless --purge is given,
# which deletes the stacks first. With OPCTL_STORE=etcd, the etcd members stop too (their data stays).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/state.sh

if [[ ${1:-} == --purge ]]; then
  # Monitoring first: it uses redis-net.
  for manifest in manifests/monitoring.yaml manifests/redis.yaml; do
    "$bin_dir/opctl" delete -f "$manifest" --ignore-not-found || true
  done
  # The agent removes the containers; stop it only once it has (volumes and their data stay).
  deadline=$((SECONDS + 60))
  while [[ -n $(docker ps -aq --filter label=opctl.io/managed-by=opctl --filter "label=opctl.io/node=$(hostname)") ]]; do
    if ((SECONDS > deadline)); then
      echo "down: managed containers are still there after 60 s; see $state_dir/logs/agent.log" >&2
      break
    fi
    sleep 0.2
  done
fi
stop_service agent
stop_service controller
for i in 1 2 3; do stop_service "controller-$i"; done
if [[ -f ${OPCTL_ETCD_DIR:-$state_dir/etcd}/size ]]; then OPCTL_ETCD_DIR=${OPCTL_ETCD_DIR:-$state_dir/etcd} scripts/etcd.sh halt; fi
