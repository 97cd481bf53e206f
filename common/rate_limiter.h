// How long a failed key waits before it is tried again, in the manner of client-go's workqueue rate
// limiters: an exponential backoff per key, a token bucket over all keys, and the larger of several.
// A limiter is asked only for retries (WorkQueue::AddRateLimited); plain adds are never limited.
//
// Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace opctl {

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  // The delay before `key`'s next try; each call counts one more failure of it.
  virtual absl::Duration When(const std::string& key) = 0;
  // `key` succeeded: its next failure starts from the shortest delay again.
  virtual void Forget(const std::string& key) = 0;
  // Failures of `key` since it was last forgotten.
  virtual int Failures(const std::string& key) = 0;
};

// base, 2*base, 4*base ... up to `cap`, per key.
class ExponentialBackoff : public RateLimiter {
 public:
  ExponentialBackoff(absl::Duration base, absl::Duration cap) : base_(base), cap_(cap) {}
  absl::Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int Failures(const std::string& key) override;

 private:
  const absl::Duration base_, cap_;
  absl::Mutex mutex_;
  std::map<std::string, int> failures_ ABSL_GUARDED_BY(mutex_);
};

// At most `per_second` retries a second over all keys after a burst of `burst`: a storm of failing
// keys (a store that refuses every write) retries at a bounded rate instead of spinning.
class TokenBucket : public RateLimiter {
 public:
  TokenBucket(double per_second, int burst, Clock& clock = Clock::Real());
  absl::Duration When(const std::string& key) override;
  void Forget(const std::string&) override {}
  int Failures(const std::string&) override { return 0; }

 private:
  const double per_second_;
  const int burst_;
  Clock& clock_;
  absl::Mutex mutex_;
  double tokens_ ABSL_GUARDED_BY(mutex_);
  absl::Time refilled_ ABSL_GUARDED_BY(mutex_);
};

// The longest delay any of `limiters` asks for; failures as the first one counts them.
class MaxOfLimiters : public RateLimiter {
 public:
  explicit MaxOfLimiters(std::vector<std::unique_ptr<RateLimiter>> limiters) : limiters_(std::move(limiters)) {}
  absl::Duration When(const std::string& key) override;
  void Forget(const std::string& key) override;
  int Failures(const std::string& key) override;

 private:
  std::vector<std::unique_ptr<RateLimiter>> limiters_;
};

// opctl-controller's: 5 ms doubling to 2 s per key (a conflict is retried at once, a broken store
// about every 2 s, as the fixed 1 s retry before it did), and 50 retries a second after a burst of 500.
std::unique_ptr<RateLimiter> ControllerRateLimiter(Clock& clock = Clock::Real());

}  // namespace opctl
