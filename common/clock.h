// The time seam: logic asks a Clock, so tests can move time by hand. Implementations are thread-safe.
#pragma once

#include <string>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace opctl {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // With `mutex` held: waits until `done` holds (true) or this clock reaches `deadline` (false).
  virtual bool AwaitUntil(absl::Mutex& mutex, const absl::Condition& done, absl::Time deadline) const = 0;
  // Blocks until this clock reaches `deadline`.
  void SleepUntil(absl::Time deadline) const;
  // The process-wide real clock.
  static Clock& Real();
};

// A clock that moves only when told to (tests).
class ManualClock : public Clock {
 public:
  explicit ManualClock(absl::Time start = absl::FromUnixSeconds(1'700'000'000)) : now_(start) {}
  absl::Time Now() const override {
    absl::MutexLock lock(&mutex_);
    return now_;
  }
  void Advance(absl::Duration by) {
    absl::MutexLock lock(&mutex_);
    now_ += by;
  }
  // Advance wakes nobody (it cannot know the waiters' mutexes): waiters look again every millisecond.
  bool AwaitUntil(absl::Mutex& mutex, const absl::Condition& done, absl::Time deadline) const override;

 private:
  mutable absl::Mutex mutex_;
  absl::Time now_ ABSL_GUARDED_BY(mutex_);
};

// RFC 3339 in UTC with milliseconds, e.g. 2026-11-26T01:06:58.123Z.
std::string FormatTimestamp(absl::Time time);
// The same to the microsecond (Kubernetes' MicroTime): what happens in a row keeps its order.
std::string FormatMicroTimestamp(absl::Time time);
// Parses FormatTimestamp's output (and any RFC 3339 time); InfinitePast when empty or malformed.
absl::Time ParseTimestamp(const std::string& text);
// Kubernetes-style age: 5s, 3m, 2h, 4d.
std::string FormatAge(absl::Duration age);

}  // namespace opctl
