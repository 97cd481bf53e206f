#!/usr/bin/env bash
# The main job: installs what is missing, builds, starts opctl-controller and one opctl-agent (node =
# this host's name) in the background (data and logs under .state/, or $OPCTL_STATE_DIR), applies the
# Redis and monitoring stacks, waits until they are healthy (Grafana aside: no image can be had here)
# and prints what opctl knows. OPCTL_STORE=etcd starts a three-member etcd cluster and three
# controllers on it (127.0.0.1:7070-7072, one elected leader) instead of one controller on SQLite.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/state.sh

scripts/install-deps.sh
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j "$(nproc)" | grep -v '^ninja: no work to do' || true
scripts/build-images.sh | grep -v 'is up to date' || true

# TLS everywhere: a CA of this installation's own, the controller's certificate, the agent's (CN = node
# name) and tokens (admin, edit, view) in $state_dir/certs.
node=$(hostname)
scripts/gen-certs.sh "$certs_dir" "$node"
export OPCTL_TOKEN=${OPCTL_TOKEN:-$(cat "$certs_dir/admin.token")}
controller_tls=(--tls-cert "$certs_dir/controller.crt" --tls-key "$certs_dir/controller.key"
  --tls-client-ca "$certs_dir/ca.crt" --tokens "$certs_dir/tokens.csv")
if [[ $store == etcd ]]; then
  endpoints=$(scripts/etcd.sh up 3)
  IFS=, read -ra addresses <<<"$controller_address"
  for i in "${!addresses[@]}"; do
    start_service "controller-$((i + 1))" "$bin_dir/opctl-controller" --listen "${addresses[$i]}" "${controller_tls[@]}" \
      --store etcd --etcd-endpoints "$endpoints" --etcd-ca "$certs_dir/ca.crt" \
      --etcd-cert "$certs_dir/controller.crt" --etcd-key "$certs_dir/controller.key"
  done
else
  start_service controller "$bin_dir/opctl-controller" --listen "$controller_address" \
    --data-dir "$state_dir/controller" "${controller_tls[@]}"
fi
wait_for_controller
# This machine reaches no registry: the agent pulls only images that name one (never Docker Hub).
start_service agent "$bin_dir/opctl-agent" --controller "$controller_address" --node "$node" \
  --tls-ca "$certs_dir/ca.crt" --tls-cert "$certs_dir/agent-$node.crt" --tls-key "$certs_dir/agent-$node.key" \
  --pull explicit-registry --backup-dir "$state_dir/backups"
# opctl in other shells: ~/.opctl/config points at this controller, unless it is someone else's file.
config=${OPCTL_CONFIG:-$HOME/.opctl/config}
if [[ ! -f $config ]] || grep -q '^# written by scripts/up.sh' "$config"; then
  mkdir -p "$(dirname "$config")"
  printf '# written by scripts/up.sh\nserver: %s\nca: %s\ntoken: %s\n' "$controller_address" "$certs_dir/ca.crt" \
    "$OPCTL_TOKEN" >"$config"
  chmod 600 "$config"
fi
"$bin_dir/opctl" apply -f manifests/redis.yaml --wait --timeout "${OPCTL_WAIT_TIMEOUT:-180s}"
# Grafana's image cannot be built here (no registry): wait for the rest of the monitoring stack.
"$bin_dir/opctl" apply -f manifests/monitoring.yaml
"$bin_dir/opctl" wait service/prometheus service/redis-exporter --timeout "${OPCTL_WAIT_TIMEOUT:-180s}"
echo
"$bin_dir/opctl" get all
