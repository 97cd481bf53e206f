#!/usr/bin/env bash
# Compiler-checked locking: builds the product with clang's -Wthread-safety as an error (build-tsa/),
# so every ABSL_GUARDED_BY, ABSL_EXCLUSIVE_LOCKS_REQUIRED and ABSL_LOCKS_EXCLUDED annotation is held
# to: a guarded member read without its mutex fails the build. g++ ignores the annotations. Nothing
# runs; only the compile counts.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${OPCTL_TSA_BUILD_DIR:-build-tsa}
if ! command -v clang++ >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null
fi
flags="-Wthread-safety -Wthread-safety-beta -Werror=thread-safety -Werror=thread-safety-beta"
# First, that the check bites: the canary reads a guarded member without its mutex and must fail.
if clang++ -std=c++20 $flags -fsyntax-only tests/thread_safety/canary.cc 2>/dev/null; then
  echo "thread-safety: the canary compiled: -Wthread-safety is not checking anything" >&2
  exit 1
fi
CXX=clang++ cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS="$flags" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target opctl-controller opctl-agent opctl
echo "thread-safety: the product builds with clang -Wthread-safety -Werror"
