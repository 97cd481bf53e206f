#!/usr/bin/env bash
# The controller's and the agent's tests (their threads: watch hub, registry, store, work queues,
# reconciler, fence) under ThreadSanitizer, against an Abseil built for it (scripts/build-tsan-abseil.sh).
# Exits non-zero on any report.
#
#   scripts/tsan.sh               builds build-tsan/ and runs controller_test and agent_test
#   scripts/tsan.sh --build-only  only builds (scripts/test.sh builds while other tests run)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_dir=${OPCTL_TSAN_BUILD_DIR:-build-tsan}
absl_lib=$(scripts/build-tsan-abseil.sh)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPCTL_SANITIZE=thread >/dev/null
cmake --build "$build_dir" -j "$(nproc)" --target controller_test agent_test sanitizer_canary >/dev/null
[[ ${1:-} == --build-only ]] && exit 0
export LD_LIBRARY_PATH=$absl_lib TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 suppressions=$PWD/tests/sanitizers/tsan.supp"
# First, that this run can fail: a race must be reported, and the same work under a Mutex must not be.
if "$build_dir/bin/sanitizer_canary" race >"$build_dir/canary.log" 2>&1 ||
  ! grep -q "WARNING: ThreadSanitizer: data race" "$build_dir/canary.log"; then
  echo "tsan: the canary's race went unreported: ThreadSanitizer is not working" >&2
  exit 1
fi
if ! "$build_dir/bin/sanitizer_canary" clean >"$build_dir/canary.log" 2>&1; then
  echo "tsan: a race was reported under an absl::Mutex: is Abseil the instrumented one?" >&2
  cat "$build_dir/canary.log" >&2
  exit 1
fi
status=0
for test in controller_test agent_test; do
  if "$build_dir/bin/$test" >"$build_dir/$test.log" 2>&1; then
    echo "tsan: $test: $(grep -c '^\[       OK \]' "$build_dir/$test.log" || true) tests, no report"
  else
    echo "tsan: $test FAILED; log: $build_dir/$test.log" >&2
    grep -E -A12 "WARNING: ThreadSanitizer|FAILED" "$build_dir/$test.log" | head -40 >&2
    status=1
  fi
done
exit $status
