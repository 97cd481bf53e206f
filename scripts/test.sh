#!/usr/bin/env bash
# The whole test suite: installs what is missing (packages, dockerd), builds on every core, runs every
# test with ctest, then fuzzes the manifest reader and dockerd's JSON decoding for a bounded time
# (OPCTL_FUZZ_SECONDS each, default 60; 0 skips). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
build_dir=${OPCTL_BUILD_DIR:-build}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
scripts/build-test-image.sh  # the tiny image the integration tests run
scripts/build-images.sh      # the stacks' images, for the end-to-end tests (skipped when unchanged)
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 900
fuzz_seconds=${OPCTL_FUZZ_SECONDS:-60}
((fuzz_seconds == 0)) || scripts/fuzz.sh "$fuzz_seconds"
