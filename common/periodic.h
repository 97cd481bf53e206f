// A background loop that runs `tick` every `interval` until `*stopping` turns true, waking at once
// when it does. `stopping` is read under `mutex`, which is not held while `tick` runs.
#pragma once

#include <functional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace opctl {

inline void RunPeriodically(absl::Mutex& mutex, const bool* stopping, absl::Duration interval,
                            const std::function<void()>& tick) {
  absl::MutexLock lock(&mutex);
  while (!*stopping) {
    mutex.AwaitWithTimeout(absl::Condition(stopping), interval);
    if (*stopping) break;
    mutex.Unlock();
    tick();
    mutex.Lock();
  }
}

}  // namespace opctl
