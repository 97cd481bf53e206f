// A keyed work queue in the manner of client-go's: adding a key that is already waiting folds into
// it; a key being processed is never handed out twice at once (re-added keys wait until Done); keys
// can be added after a delay (periodic resyncs) or after what a RateLimiter says (retries with backoff).
//
// Thread-safe. Any number of producers; workers call Get / Done.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/rate_limiter.h"

namespace opctl {

class WorkQueue {
 public:
  // Without a limiter, retries wait as ControllerRateLimiter says.
  explicit WorkQueue(Clock& clock = Clock::Real(), std::unique_ptr<RateLimiter> limiter = nullptr)
      : clock_(clock), limiter_(limiter ? std::move(limiter) : ControllerRateLimiter(clock)) {}

  void Add(const std::string& key);
  // Adds `key` once `delay` has passed (an earlier pending delay for the key wins).
  void AddAfter(const std::string& key, absl::Duration delay);
  // A retry of a failed `key`: added after the limiter's delay, which grows with each failure.
  void AddRateLimited(const std::string& key) { AddAfter(key, limiter_->When(key)); }
  // `key` succeeded: its backoff starts over.
  void Forget(const std::string& key) { limiter_->Forget(key); }
  // Failures of `key` in a row (for logging every so often, not every time).
  int Failures(const std::string& key) { return limiter_->Failures(key); }
  // Blocks until a key is ready or the queue shuts down (nullopt). Call Done(key) when finished.
  std::optional<std::string> Get();
  void Done(const std::string& key);
  // Wakes every Get with nullopt; later Adds are ignored.
  void ShutDown();
  size_t Length() const;

 private:
  void PromoteDelayedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  Clock& clock_;
  const std::unique_ptr<RateLimiter> limiter_;
  mutable absl::Mutex mutex_;
  std::deque<std::string> ready_ ABSL_GUARDED_BY(mutex_);
  std::set<std::string> queued_ ABSL_GUARDED_BY(mutex_);      // in ready_
  std::set<std::string> processing_ ABSL_GUARDED_BY(mutex_);  // handed out, not Done
  std::set<std::string> dirty_ ABSL_GUARDED_BY(mutex_);       // re-added while processing
  std::map<std::string, absl::Time> delayed_ ABSL_GUARDED_BY(mutex_);
  bool shut_down_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace opctl
