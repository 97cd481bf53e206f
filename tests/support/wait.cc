#include "tests/support/wait.h"

#include <chrono>
#include <thread>

namespace opctl::testing {

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout, absl::Duration poll) {
  // The monotonic clock: the wall clock of these machines jumps (a paused VM catching up), and a test
  // once saw its 30 s pass in 12.
  auto deadline = std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(timeout);
  while (true) {
    if (condition()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(poll));
  }
}

}  // namespace opctl::testing
