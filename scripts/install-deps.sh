#!/usr/bin/env bash
# Installs every build and runtime dependency that is missing (Debian packages only) and makes sure a
# Docker engine answers on /var/run/docker.sock. Idempotent and quiet: a second run does nothing.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libabsl-dev
  libyaml-cpp-dev libcurl4-openssl-dev libsqlite3-dev nlohmann-json3-dev libssl-dev libmnl-dev
  libgtest-dev libgmock-dev libre2-dev prometheus-cpp-dev clang dpkg-dev prometheus
  etcd-server etcd-client docker.io docker-compose redis-tools zsh lintian busybox-static iproute2 iptables procps curl mmdebstrap binutils openssl
  rsyslog
)

missing=()
# Node.js (with npm) is usually there already; Debian's packages otherwise.
command -v npm >/dev/null || packages+=(nodejs npm)
for package in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$package")
done

if ((${#missing[@]})); then
  echo "install-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # No package's service starts on install (policy-rc.d says so to their scripts): prometheus is here
  # only for its promtool (tests/monitoring/) and would hold port 9090, where the monitoring stack
  # publishes its Prometheus; etcd-server's would hold 2379; dockerd is started below, as needed.
  policy=/usr/sbin/policy-rc.d
  own_policy=false
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && own_policy=true
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  $own_policy && rm -f "$policy"
  if [[ " ${missing[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null; then
    systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

# The Kubernetes API schemas with their validators, for the export test (tests/migrate/): from the npm
# registry, outside the repository, without a lock file (it would name the registry).
node_dir=/var/lib/opctl/node
if ! NODE_PATH=$node_dir/node_modules node -e 'require("kubernetes-models/apps/v1"); require("js-yaml")' 2>/dev/null; then
  echo "install-deps: installing kubernetes-models and js-yaml into $node_dir"
  mkdir -p "$node_dir"
  (cd "$node_dir" && npm install --no-package-lock --no-save --silent --no-audit --no-fund kubernetes-models@4 js-yaml@4)
fi

# shellcheck source=scripts/lib/docker.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib/docker.sh"
ensure_dockerd
