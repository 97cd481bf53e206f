#include "common/clock.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace opctl {
namespace {

class RealClock : public Clock {
 public:
  absl::Time Now() const override { return absl::Now(); }
  bool AwaitUntil(absl::Mutex& mutex, const absl::Condition& done, absl::Time deadline) const override {
    return mutex.AwaitWithDeadline(done, deadline);
  }
};

}  // namespace

void Clock::SleepUntil(absl::Time deadline) const {
  absl::Mutex mutex;
  bool never = false;
  absl::MutexLock lock(&mutex);
  AwaitUntil(mutex, absl::Condition(&never), deadline);
}

bool ManualClock::AwaitUntil(absl::Mutex& mutex, const absl::Condition& done, absl::Time deadline) const {
  while (!done.Eval()) {
    if (Now() >= deadline) return false;
    mutex.AwaitWithTimeout(done, absl::Milliseconds(1));
  }
  return true;
}

Clock& Clock::Real() {
  static RealClock* clock = new RealClock();
  return *clock;
}

std::string FormatTimestamp(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", time, absl::UTCTimeZone());
}

std::string FormatMicroTimestamp(absl::Time time) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", time, absl::UTCTimeZone());
}

absl::Time ParseTimestamp(const std::string& text) {
  absl::Time time;
  std::string error;
  if (text.empty() || !absl::ParseTime(absl::RFC3339_full, text, &time, &error)) return absl::InfinitePast();
  return time;
}

std::string FormatAge(absl::Duration age) {
  int64_t seconds = absl::ToInt64Seconds(age);
  if (seconds < 0) seconds = 0;
  if (seconds < 120) return absl::StrCat(seconds, "s");
  if (seconds < 7200) return absl::StrCat(seconds / 60, "m");
  if (seconds < 172800) return absl::StrCat(seconds / 3600, "h");
  return absl::StrCat(seconds / 86400, "d");
}

}  // namespace opctl
