#!/usr/bin/env bash
# Fuzzes, with libFuzzer (clang from Debian), AddressSanitizer and UndefinedBehaviorSanitizer: the
# manifest reader and validator, the decoding of dockerd's JSON, and the controller's gRPC services
# themselves (Apply, UpdateStatus, Heartbeat, Watch, ... in an in-process server over the real
# registry and store, each request written by the fuzzer in the wire format).
#
#   scripts/fuzz.sh [SECONDS]    each target for SECONDS (default 60); exit 1 on any finding
#   scripts/fuzz.sh --build-only only build the targets (scripts/test.sh builds while other tests run)
#
# Seeds: manifests/, tests/data/invalid/ and tests/fuzz/corpus/<target>/ (read only: new inputs go to
# a scratch corpus). A crash leaves its input in build-fuzz/findings/: add it to the seed corpus and
# make it a regression test. Longer runs: scripts/fuzz.sh 3600 (or run build-fuzz/bin/<target> with
# -jobs=N by hand).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
build_only=false
[[ ${1:-} == --build-only ]] && build_only=true
seconds=${1:-60}
# shellcheck source=scripts/lib/clang-build.sh
source scripts/lib/clang-build.sh
build_dir=$clang_build_dir
configure_clang_build
cmake --build "$build_dir" -j "$(nproc)" --target manifest_fuzzer docker_json_fuzzer grpc_services_fuzzer >/dev/null
$build_only && exit 0
findings=$build_dir/findings
mkdir -p "$findings"
status=0
run() {  # run TARGET MAX_LEN SEED_DIR...: fails on a finding
  local target=$1 max_len=$2
  shift 2
  local scratch log found=0
  scratch=$(mktemp -d)
  log=$build_dir/$target.log
  if "$build_dir/bin/$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len="$max_len" \
    -artifact_prefix="$findings/$target-" -print_final_stats=1 "$scratch" "$@" >"$log" 2>&1; then
    echo "fuzz: $target: $(awk '/stat::number_of_executed_units/ {print $2}' "$log") inputs in ${seconds} s, no finding"
  else
    echo "fuzz: $target FAILED; input and log: $findings, $log" >&2
    grep -E "ERROR|SUMMARY|runtime error" "$log" | head -5 >&2
    found=1
  fi
  rm -rf "$scratch"
  return $found
}
# The three at once (each gets a share of the cores for the whole time), each with its own log.
# Long inputs too: the audit's crash needed 100 000 characters in one field.
run manifest_fuzzer 1048576 manifests tests/data/invalid tests/fuzz/corpus/manifest >"$build_dir/manifest_fuzzer.out" 2>&1 &
run docker_json_fuzzer 65536 tests/fuzz/corpus/docker_json >"$build_dir/docker_json_fuzzer.out" 2>&1 &
# gRPC's own threads and caches live until exit: leaks are checked by the suite, not here.
ASAN_OPTIONS=detect_leaks=0 run grpc_services_fuzzer 1048576 tests/fuzz/corpus/grpc_services \
  >"$build_dir/grpc_services_fuzzer.out" 2>&1 &
for job in $(jobs -p); do wait "$job" || status=1; done
cat "$build_dir"/{manifest,docker_json,grpc_services}_fuzzer.out
rm -rf /tmp/opctl-fuzz-grpc-*  # its store
exit $status
