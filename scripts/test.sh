#!/usr/bin/env bash
# The whole test suite: installs what is missing (packages, dockerd), builds the product and its tests
# with AddressSanitizer and UndefinedBehaviorSanitizer (build-asan/), and runs every test with ctest, so
# each test, and every controller, agent and CLI it starts, is also a memory, leak and undefined-
# behaviour check: a report from any process fails the run. Test files go to /tmp/opctl-test-run (kept
# when something failed). Meanwhile the product is compiled with clang -Wthread-safety -Werror
# (scripts/thread-safety.sh) and the .deb packages (scripts/build-deb.sh, installed into a fresh Debian
# root file system at the end). Then the controller's and agent's tests under ThreadSanitizer
# (scripts/tsan.sh), then fuzzing of the manifest reader and dockerd's JSON decoding for a bounded
# time (OPCTL_FUZZ_SECONDS each, default 60; 0 skips). Exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# How long each phase took, for keeping the whole run inside CI's budget.
phase() { echo "test: $1 done at $((SECONDS / 60))m$((SECONDS % 60))s"; }

scripts/install-deps.sh
phase "installing dependencies"
build_dir=${OPCTL_BUILD_DIR:-build-asan}
# Every test's files (logs of the controllers, agents and CLIs it starts) live under one directory,
# emptied first and removed when all passed. AddressSanitizer writes each process's report to a file
# of its own there; UndefinedBehaviorSanitizer (GCC's runtime has no log file for it) writes to the
# process's stderr, which lands in those logs or in ctest's JUnit file. Any report fails the run.
run_dir=/tmp/opctl-test-run
clear_run_dir() {  # also what an earlier run killed midway left mounted there
  findmnt -rn -o TARGET | grep "^$run_dir/" | sort -r | xargs -r umount -l || true
  rm -rf "$run_dir"
}
clear_run_dir
mkdir -p "$run_dir/reports"
# From now on, the clang -Wthread-safety build (its compile is the check), the packages, the
# ThreadSanitizer and the fuzzing builds, at the lowest priority: they take only the cores the main
# build and the tests leave idle (while the images download, a link runs alone, the tests wait on
# Docker), so the tests' timing is theirs.
fuzz_seconds=${OPCTL_FUZZ_SECONDS:-60}
background_log=$run_dir/background-builds.log
# The packages scripts/build-deb.sh builds, installed and run at the end: listed outside $run_dir,
# which is emptied before that.
debs=$(mktemp /tmp/opctl-debs.XXXXXX)
low_priority() { env -u TMPDIR -u ASAN_OPTIONS -u UBSAN_OPTIONS -u LSAN_OPTIONS nice -n 19 "$@"; }
(
  low_priority scripts/thread-safety.sh
  phase "background: the clang build"
  low_priority scripts/build-deb.sh >"$debs"
  phase "background: the packages"
  low_priority scripts/tsan.sh --build-only
  phase "background: the ThreadSanitizer build"
  ((fuzz_seconds == 0)) || low_priority scripts/fuzz.sh --build-only
) >"$background_log" 2>&1 &
background=$!

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPCTL_SANITIZE=address,undefined >/dev/null
scripts/build-test-image.sh  # the tiny image the integration tests run
# The stacks' images, for the end-to-end tests (skipped when unchanged): mostly downloading and
# unpacking, so they are made while the compiler has the cores.
images_log=$(mktemp)
scripts/build-images.sh >"$images_log" 2>&1 &
images=$!
cmake --build "$build_dir" -j "$(nproc)"
wait "$images" || { cat "$images_log" >&2; exit 1; }
cat "$images_log"
rm -f "$images_log"
phase "building the product and tests, and the images"

export TMPDIR=$run_dir
export ASAN_OPTIONS="log_path=$run_dir/reports/asan:log_exe_name=1:detect_leaks=1:strict_string_checks=1:detect_stack_use_after_return=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export LSAN_OPTIONS="suppressions=$PWD/tests/sanitizers/lsan.supp:print_suppressions=0"
reports() {  # the files under the run's directory that hold a sanitizer report
  grep -rlE "ERROR: (Address|Leak)Sanitizer|runtime error: " "$run_dir" 2>/dev/null || true
}
# First, that a report is seen: the canary's heap overflow and signed overflow must each leave one.
for fault in overflow ub; do
  "$build_dir/bin/sanitizer_canary" "$fault" >"$run_dir/canary.log" 2>&1 || true
  if [[ -z $(reports) ]]; then
    echo "test: the canary's $fault left no sanitizer report: the sanitizers are not working" >&2
    exit 1
  fi
  rm -f "$run_dir/canary.log" "$run_dir"/reports/*
done

status=0
# The JUnit file keeps every test's output, passed or not (ctest's --output-log keeps only the failed
# ones), whole (ctest cuts a passed test's output at 1 KiB unless told): the sanitizer check and the
# counts below read it.
ctest --test-dir "$build_dir" --output-on-failure -j "$(nproc)" --timeout 900 --output-junit "$run_dir/ctest.xml" \
  --test-output-size-passed 4194304 --test-output-size-failed 4194304 ||
  status=1
phase "the tests"
# A test that died midway (an abort) leaves its etcd members running: none outlives the suite.
pkill -KILL -f -- "--data-dir $run_dir/" 2>/dev/null || true
found=$(reports)
if [[ -n $found ]]; then
  echo "test: sanitizer reports (from the tests or the processes they started):" >&2
  for report in $found; do
    echo "--- $report" >&2
    grep -m1 -A40 -E "ERROR: (Address|Leak)Sanitizer|runtime error: " "$report" >&2
  done
  status=1
fi
background_status=0
wait "$background" || background_status=$?
grep "^test: background" "$background_log" || true
phase "the background builds"
if ((status != 0)); then
  echo "test: failed; the tests' files are in $run_dir" >&2
  exit 1
fi
if ((background_status != 0)); then
  echo "test: the -Wthread-safety build, or building the ThreadSanitizer or fuzzing targets, failed:" >&2
  cat "$background_log" >&2
  exit 1
fi
# What the suite counted and timed, for the record (the tests print these lines).
grep -hE "^(kill -9 trials|kill -9 of the leading|a leader stopped|leading controller killed|member [0-9]+ killed|etcd member|etcd without quorum|b leads|[0-9]+ invalid manifests refused|disk full after|heal from removal|dead agent detected|failover:|writes acknowledged with WAIT|agent kill -9 over|link cut over|.*no replica on two hosts|hostile gRPC messages|controller stopped|controller disk full|master host cut trial|replica host cut trial|overlay back after|compose corpus:)" \
  "$run_dir/ctest.xml" | sed -e 's/&quot;/"/g' -e "s/&apos;/'/g" -e 's/&lt;/</g' -e 's/&gt;/>/g' -e 's/&amp;/\&/g' || true
clear_run_dir
unset TMPDIR ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS

# The .deb packages (built meanwhile, lintian-clean) installed into a fresh Debian root file system.
mapfile -t packages <"$debs"
rm -f "$debs"
tests/packaging/deb_install_test.sh "${packages[@]}"
phase "installing the packages"
scripts/tsan.sh
phase "the ThreadSanitizer tests"
((fuzz_seconds == 0)) || scripts/fuzz.sh "$fuzz_seconds"
phase "fuzzing"
