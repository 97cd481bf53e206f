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
# opctl's own metrics on loopback and on Docker's default bridge, where the monitoring stack's
# Prometheus reaches them (README "Observing opctl"): controller I on 708I, the agent on 7090.
gateway=$(docker network inspect bridge -f '{{range .IPAM.Config}}{{.Gateway}}{{end}}' 2>/dev/null || true)
[[ -n $gateway ]] || echo "up: Docker has no default bridge here: the monitoring stack cannot scrape opctl" >&2
metrics_listen() { echo "127.0.0.1:$1${gateway:+,$gateway:$1}"; }
controller_targets=()
if [[ $store == etcd ]]; then
  endpoints=$(scripts/etcd.sh up 3)
  IFS=, read -ra addresses <<<"$controller_address"
  for i in "${!addresses[@]}"; do
    port=$((7081 + i))
    controller_targets+=("$gateway:$port")
    start_service "controller-$((i + 1))" "$bin_dir/opctl-controller" --listen "${addresses[$i]}" "${controller_tls[@]}" \
      --metrics-listen "$(metrics_listen $port)" --store etcd --etcd-endpoints "$endpoints" --etcd-ca "$certs_dir/ca.crt" \
      --etcd-cert "$certs_dir/controller.crt" --etcd-key "$certs_dir/controller.key"
  done
else
  controller_targets+=("$gateway:7081")
  start_service controller "$bin_dir/opctl-controller" --listen "$controller_address" \
    --data-dir "$state_dir/controller" "${controller_tls[@]}" --metrics-listen "$(metrics_listen 7081)"
fi
wait_for_controller
# This machine reaches no registry: the agent pulls only images that name one (never Docker Hub).
start_service agent "$bin_dir/opctl-agent" --controller "$controller_address" --node "$node" \
  --tls-ca "$certs_dir/ca.crt" --tls-cert "$certs_dir/agent-$node.crt" --tls-key "$certs_dir/agent-$node.key" \
  --pull explicit-registry --backup-dir "$state_dir/backups" --metrics-listen "$(metrics_listen 7090)"
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
# Prometheus scrapes the controllers and the agent where they listen: the manifest names the usual
# single controller on 172.17.0.1; anything else is put in a copy.
monitoring=manifests/monitoring.yaml
controllers=$(IFS=,; echo "${controller_targets[*]}")
if [[ -n $gateway && ($gateway != 172.17.0.1 || $controllers != 172.17.0.1:7081) ]]; then
  monitoring=$state_dir/monitoring.yaml
  sed -e "s/value: \"172.17.0.1:7081\"/value: \"$controllers\"/" -e "s/value: \"172.17.0.1:7090\"/value: \"$gateway:7090\"/" \
    manifests/monitoring.yaml >"$monitoring"
  echo "up: Prometheus scrapes the controllers at $controllers and the agent at $gateway:7090 ($monitoring)"
fi
"$bin_dir/opctl" apply -f "$monitoring"
"$bin_dir/opctl" wait service/prometheus service/redis-exporter --timeout "${OPCTL_WAIT_TIMEOUT:-180s}"
# What Prometheus scrapes, once it has scraped everything at least once (up to 30 s).
targets=""
for _ in $(seq 1 60); do
  targets=$(curl -s --max-time 2 http://127.0.0.1:9090/api/v1/targets 2>/dev/null || true)
  [[ -n $targets && $targets != *'"health":"unknown"'* ]] && break
  sleep 0.5
done
echo
echo "Prometheus (http://127.0.0.1:9090) scrapes:"
python3 -c 'import json, sys
for t in json.load(sys.stdin)["data"]["activeTargets"]:
    print("  %-17s %-22s %s %s" % (t["labels"]["job"], t["labels"]["instance"], t["health"], t["lastError"]))' <<<"$targets" ||
  echo "  (no answer from Prometheus)"
echo
"$bin_dir/opctl" get all
