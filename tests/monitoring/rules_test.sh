#!/usr/bin/env bash
# The monitoring stack's own checks, with Debian's promtool: the Prometheus config and every rule
# file load, each alert fires and stays quiet as tests/monitoring/rules_test.yml says, every query of
# the Grafana dashboards parses, and every opctl_ metric they and the rules name is documented.
# Usage: rules_test.sh SOURCE_DIR
set -euo pipefail
source_dir=$1
prometheus_dir=$source_dir/docker/monitoring/prometheus
dashboards_dir=$source_dir/docker/monitoring/grafana/provisioning/dashboards
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "rules_test: $*" >&2; exit 1; }

# The config as the image holds it, with the rules where this checkout has them.
sed "s#/etc/prometheus/rules/#$prometheus_dir/rules/#" "$prometheus_dir/prometheus.yml" >"$work/prometheus.yml"
promtool check config "$work/prometheus.yml" >"$work/config.log" 2>&1 || fail "$(cat "$work/config.log")"
grep -q "SUCCESS: 2 rule files found" "$work/config.log" || fail "the config loads no rules: $(cat "$work/config.log")"
promtool check rules "$prometheus_dir"/rules/*.yml >"$work/rules.log" 2>&1 || fail "$(cat "$work/rules.log")"
(cd "$source_dir/tests/monitoring" && promtool test rules rules_test.yml) >"$work/test.log" 2>&1 ||
  fail "promtool test rules: $(cat "$work/test.log")"
# Each alert has a test that expects it to fire.
for alert in $(grep -h -- "- alert:" "$prometheus_dir"/rules/*.yml | awk '{print $3}'); do
  grep -q "alertname: $alert$" "$source_dir/tests/monitoring/rules_test.yml" || fail "alert $alert has no test"
done

# The dashboards' queries, as recording rules: promtool parses each.
python3 - "$dashboards_dir"/*.json >"$work/dashboards.yml" <<'PY'
import json, sys
print("groups:\n  - name: dashboards\n    rules:")
count = 0
for path in sys.argv[1:]:
    for panel in json.load(open(path))["panels"]:
        for target in panel.get("targets", []):
            count += 1
            print(f"      - record: dashboard:query_{count}\n        expr: " + json.dumps(target["expr"]))
PY
promtool check rules "$work/dashboards.yml" >"$work/dashboards.log" 2>&1 || fail "a dashboard query: $(cat "$work/dashboards.log")"
grep -qE "SUCCESS: [1-9][0-9]* rules found" "$work/dashboards.log" || fail "no dashboard query was checked: $(cat "$work/dashboards.log")"

# Every opctl_ metric named is documented in README's "Observing opctl" (the e2e test checks that
# Prometheus holds series of each, scraped from a real controller and agent).
names=$(grep -ohE "opctl_[a-z_]+" "$prometheus_dir"/rules/*.yml "$dashboards_dir"/*.json | sed -E 's/_(bucket|count|sum)$//' | sort -u)
[[ -n $names ]] || fail "no opctl_ metric is named"
observing=$(sed -n '/^## Observing opctl/,/^## /p' "$source_dir/README.md")
for name in $names; do
  grep -q "\b$name\b" <<<"$observing" || fail "$name is named by a rule or dashboard but not in README's Observing opctl"
done
echo "rules_test: config, $(grep -c -- "- alert:" "$prometheus_dir"/rules/*.yml | awk -F: '{s+=$2} END {print s}') alerts tested, $(grep -c "record:" "$work/dashboards.yml") dashboard queries, $(wc -w <<<"$names") metric names"
