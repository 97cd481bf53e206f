// A keyed work queue in the manner of client-go's: adding a key that is already waiting folds into
// it; a key being processed is never handed out twice at once (re-added keys wait until Done); keys
// can be added after a delay (retries with backoff, periodic resyncs).
//
// Thread-safe. Any number of producers; workers call Get / Done.
#pragma once

#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/clock.h"

namespace opctl {

class WorkQueue {
 public:
  explicit WorkQueue(Clock& clock = Clock::Real()) : clock_(clock) {}

  void Add(const std::string& key);
  // Adds `key` once `delay` has passed (an earlier pending delay for the key wins).
  void AddAfter(const std::string& key, absl::Duration delay);
  // Blocks until a key is ready or the queue shuts down (nullopt). Call Done(key) when finished.
  std::optional<std::string> Get();
  void Done(const std::string& key);
  // Wakes every Get with nullopt; later Adds are ignored.
  void ShutDown();
  size_t Length() const;

 private:
  void PromoteDelayedLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  Clock& clock_;
  mutable absl::Mutex mutex_;
  std::deque<std::string> ready_ ABSL_GUARDED_BY(mutex_);
  std::set<std::string> queued_ ABSL_GUARDED_BY(mutex_);      // in ready_
  std::set<std::string> processing_ ABSL_GUARDED_BY(mutex_);  // handed out, not Done
  std::set<std::string> dirty_ ABSL_GUARDED_BY(mutex_);       // re-added while processing
  std::map<std::string, absl::Time> delayed_ ABSL_GUARDED_BY(mutex_);
  bool shut_down_ ABSL_GUARDED_BY(mutex_) = false;
};

}  // namespace opctl
