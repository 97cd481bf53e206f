#!/usr/bin/env bash
# Every object `opctl export --to kubernetes` writes for the project's manifests and for the seed's
# converted compose file validates against the Kubernetes API schemas (kubernetes-models, installed
# by scripts/install-deps.sh). Usage: kubernetes_schema_test.sh OPCTL SOURCE_DIR
set -euo pipefail
opctl=$1
source_dir=$2
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for manifest in "$source_dir"/manifests/*.yaml; do
  name=$(basename "$manifest" .yaml)
  "$opctl" export --to kubernetes -f "$manifest" -o - >"$out/$name.k8s.yaml" 2>"$out/$name.warnings"
done
"$opctl" convert -f "$source_dir/tests/data/compose/seed/docker-compose.yml" --stack seed -o "$out/seed" >/dev/null 2>&1
"$opctl" export --to kubernetes -f "$out/seed/seed.yaml" -o - >"$out/seed.k8s.yaml" 2>/dev/null
NODE_PATH=/var/lib/opctl/node/node_modules node "$source_dir/tests/migrate/validate-kubernetes.js" "$out"/*.k8s.yaml
