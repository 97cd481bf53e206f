#include "tests/support/wait.h"

#include <thread>

#include "absl/time/clock.h"

namespace opctl::testing {

bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout, absl::Duration poll) {
  absl::Time deadline = absl::Now() + timeout;
  while (true) {
    if (condition()) return true;
    if (absl::Now() >= deadline) return false;
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(poll));
  }
}

}  // namespace opctl::testing
