# The one clang build (build-fuzz/, OPCTL_FUZZ_BUILD_DIR): the product and the libFuzzer targets with
# coverage instrumentation, AddressSanitizer and UndefinedBehaviorSanitizer, and every file held to
# clang's -Wthread-safety as errors. scripts/thread-safety.sh and scripts/fuzz.sh share it, so the
# product is compiled by clang once. Sourced, not executed.

clang_build_dir=${OPCTL_FUZZ_BUILD_DIR:-build-fuzz}

# Installs clang when missing and configures the build; prints nothing.
configure_clang_build() {
  if ! command -v clang++ >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends clang >/dev/null
  fi
  CXX=clang++ cmake -S . -B "$clang_build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DOPCTL_FUZZ=ON >/dev/null
}
