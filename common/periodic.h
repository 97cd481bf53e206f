// A background loop that runs `tick` every `interval` of `clock` until `*stopping` turns true, waking
// at once when it does. `stopping` is read under `mutex`, which is not held while `tick` runs.
#pragma once

#include <functional>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace opctl {

inline void RunPeriodically(absl::Mutex& mutex, const bool* stopping, absl::Duration interval,
                            const std::function<void()>& tick, const Clock& clock = Clock::Real()) {
  absl::MutexLock lock(&mutex);
  while (!*stopping) {
    clock.AwaitUntil(mutex, absl::Condition(stopping), clock.Now() + interval);
    if (*stopping) break;
    mutex.Unlock();
    tick();
    mutex.Lock();
  }
}

}  // namespace opctl
