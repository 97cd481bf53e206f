// Proof that a sanitizer run can fail: each mode does one thing the sanitizer in use must report
// (scripts/test.sh and scripts/tsan.sh expect those to fail), and "clean" the same work done right.
//
//   sanitizer_canary race|clean            under ThreadSanitizer: an unguarded counter vs an absl::Mutex
//   sanitizer_canary overflow|ub|clean     under AddressSanitizer+UBSan: a heap overflow, a signed overflow
#include <cstdio>
#include <cstring>
#include <memory>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace {

int Count(bool guarded) {
  int counter = 0;
  absl::Mutex mutex;
  auto work = [&] {
    for (int i = 0; i < 100000; ++i) {
      if (guarded) {
        absl::MutexLock lock(&mutex);
        ++counter;
      } else {
        ++counter;
      }
    }
  };
  std::thread first(work), second(work);
  first.join();
  second.join();
  return counter;
}

}  // namespace

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "clean";
  if (std::strcmp(mode, "race") == 0) return Count(false) > 0 ? 0 : 1;
  if (std::strcmp(mode, "overflow") == 0) {
    auto buffer = std::make_unique<char[]>(8);
    volatile int index = 8;
    buffer[index] = 1;
    return 0;
  }
  if (std::strcmp(mode, "ub") == 0) {
    volatile int big = 2147483647;
    int sum = big + argc;
    std::printf("%d\n", sum);
    return 0;
  }
  return Count(true) == 200000 ? 0 : 1;
}
