#!/bin/sh
# Writes the scrape targets of opctl's own endpoints from the environment the Service gives
# (manifests/monitoring.yaml: OPCTL_CONTROLLER_METRICS and OPCTL_AGENT_METRICS, each HOST:PORT or
# several as HOST:PORT,HOST:PORT; unset or empty: none), then becomes Prometheus. The files are
# Prometheus' file-based discovery: rewriting them while it runs changes what it scrapes.
set -eu
targets_dir=/etc/prometheus/targets

write_targets() {  # FILE LIST
  list=""
  for target in $(printf '%s' "$2" | tr ',' ' '); do
    if ! printf '%s' "$target" | grep -Eq '^[A-Za-z0-9._-]+:[0-9]+$'; then
      echo "opctl-prometheus: $3: \"$target\" is not HOST:PORT" >&2
      exit 2
    fi
    list="${list:+$list, }\"$target\""
  done
  printf '[{"targets": [%s]}]\n' "$list" >"$1.new"
  mv "$1.new" "$1"
}

write_targets "$targets_dir/opctl-controller.json" "${OPCTL_CONTROLLER_METRICS:-}" OPCTL_CONTROLLER_METRICS
write_targets "$targets_dir/opctl-agent.json" "${OPCTL_AGENT_METRICS:-}" OPCTL_AGENT_METRICS
exec /usr/bin/prometheus --config.file=/etc/prometheus/prometheus.yml --storage.tsdb.path=/prometheus \
  --web.listen-address=0.0.0.0:9090 "$@"
