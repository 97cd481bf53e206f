// Waiting on conditions with a deadline: the only way tests synchronise (never a bare sleep).
#pragma once

#include <functional>

#include "absl/time/time.h"

namespace opctl::testing {

// Polls `condition` every `poll` until it holds (true) or `timeout` passes (false).
bool WaitFor(const std::function<bool()>& condition, absl::Duration timeout,
             absl::Duration poll = absl::Milliseconds(20));

}  // namespace opctl::testing
