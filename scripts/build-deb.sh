#!/usr/bin/env bash
# Builds the Debian packages opctl, opctl-controller and opctl-agent (CPack, packaging/) from a
# Release build of the three binaries in build-deb/ (OPCTL_DEB_BUILD_DIR), then checks them with
# lintian, which must report no error. Prints the packages' paths.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dir=${OPCTL_DEB_BUILD_DIR:-build-deb}
# -O2, as Debian builds its packages (CMake's Release would be -O3, slower to compile for nothing).
cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE="-O2 -DNDEBUG" >/dev/null
cmake --build "$dir" --target opctl opctl-controller opctl-agent -j "$(nproc)" >/dev/null
rm -f "$dir"/*.deb
(cd "$dir" && cpack -G DEB >/dev/null)
shopt -s nullglob
debs=("$PWD/$dir"/*.deb)
if ((${#debs[@]} != 3)); then
  echo "build-deb: expected 3 packages in $dir, found ${#debs[@]}" >&2
  exit 1
fi
# --fail-on error: warnings (no manual pages, ...) are reported, not fatal.
lintian --fail-on error "${debs[@]}" >&2
printf '%s\n' "${debs[@]}"
