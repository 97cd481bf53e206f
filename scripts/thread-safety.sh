#!/usr/bin/env bash
# Compiler-checked locking: builds the product with clang's -Wthread-safety as an error (in the clang
# build, build-fuzz/, which the fuzzers share: scripts/lib/clang-build.sh),
# so every ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED and ABSL_LOCKS_EXCLUDED annotation is held
# to: a guarded member read without its mutex fails the build. g++ ignores the annotations. Nothing
# runs; only the compile counts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
# shellcheck source=scripts/lib/clang-build.sh
source scripts/lib/clang-build.sh
configure_clang_build
flags="-Wthread-safety -Wthread-safety-beta -Werror=thread-safety -Werror=thread-safety-beta"
# First, that the check bites: the canary reads a guarded member without its mutex and must fail.
if clang++ -std=c++20 $flags -fsyntax-only tests/thread_safety/canary.cc 2>/dev/null; then
  echo "thread-safety: the canary compiled: -Wthread-safety is not checking anything" >&2
  exit 1
fi
# The clang build compiles everything with these flags (CMakeLists.txt, OPCTL_FUZZ).
cmake --build "$clang_build_dir" -j "$(nproc)" --target opctl-controller opctl-agent opctl
echo "thread-safety: the product builds with clang -Wthread-safety -Werror"
