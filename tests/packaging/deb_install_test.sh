#!/usr/bin/env bash
# Installs the packages scripts/build-deb.sh built into a fresh Debian root file system (mmdebstrap,
# as the images are made, with the host's apt sources; their dependencies come from Debian) and
# runs them there: `opctl version --client`, `opctl-controller --help`, `opctl-agent --version`, and
# checks the units and default configuration landed. Usage: deb_install_test.sh DEB...
set -euo pipefail
(($# == 3)) || { echo "deb_install_test: give the three .deb files" >&2; exit 2; }
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
sources=/etc/apt/sources.list.d/debian.sources  # as scripts/build-images.sh
[[ -f $sources ]] || sources=/etc/apt/sources.list
includes=()  # one --include per file: mmdebstrap takes a path with a comma for one path
for deb in "$@"; do includes+=("--include=$(realpath "$deb")"); done
# The hook makes the .deb files visible inside the new root, where dpkg installs them.
if ! mmdebstrap --quiet --variant=apt "${includes[@]}" --hook-dir=/usr/share/mmdebstrap/hooks/file-mirror-automount \
  bookworm "$root/fs" "$sources" >"$root/mmdebstrap.log" 2>&1; then
  cat "$root/mmdebstrap.log" >&2
  exit 1
fi
fail() { echo "deb_install_test: $*" >&2; exit 1; }
version=$(chroot "$root/fs" opctl version --client) || fail "opctl version failed: $version"
[[ $version == "Client: opctl "* ]] || fail "opctl version printed: $version"
chroot "$root/fs" opctl-controller --help >"$root/help" 2>&1 || true
grep -q -- "--data_dir" "$root/help" || fail "opctl-controller --help: $(head -5 "$root/help")"
agent=$(chroot "$root/fs" opctl-agent --version 2>&1) || true
[[ $agent == "opctl-agent "* ]] || fail "opctl-agent --version printed: $agent"
for file in /usr/lib/systemd/system/opctl-controller.service /usr/lib/systemd/system/opctl-agent.service \
  /etc/opctl/controller.flags /etc/opctl/agent.flags /etc/opctl/policy.yaml; do
  [[ -f $root/fs$file ]] || fail "$file is not installed"
done
grep -qx /etc/opctl/controller.flags "$root/fs/var/lib/dpkg/info/opctl-controller.conffiles" ||
  fail "controller.flags is not a conffile"
echo "deb packages installed into a fresh Debian root file system: $version; units and configuration in place"
