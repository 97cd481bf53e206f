// One controller at work: a rate-limited work queue of keys and a worker that hands each key to the
// Reconciler. Errors retry the key with backoff (per key, bounded over all keys); a result's
// requeue-after looks again later; success forgets the key's failures.
//
// Start and Stop may alternate (a leader-only controller runs only while its process leads): each
// Start begins with a fresh queue holding every key `resync` gives, so a new term never trusts what
// an earlier one left half done; keys enqueued while stopped are dropped, as the next resync covers
// them.
//
// Thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/latency_histogram.h"
#include "common/logger.h"
#include "common/work_queue.h"
#include "controller/runtime/reconciler.h"

namespace opctl::controller {

struct ReconcileLoopOptions {
  std::string name;  // for logs: "<name>: <key>: <error>"
  // The keys every start begins with (every object the controller looks after).
  std::function<std::vector<std::string>()> resync;
  // Runs before each pass (the manager's: wait until the watch has delivered every write so far).
  std::function<void()> before_pass;
  // Makes each start's queue; empty: ControllerRateLimiter's backoff.
  std::function<std::unique_ptr<RateLimiter>()> rate_limiter;
};

class ReconcileLoop {
 public:
  ReconcileLoop(Reconciler& reconciler, Clock& clock, Logger& logger, ReconcileLoopOptions options);
  ~ReconcileLoop();  // stops

  const std::string& name() const { return options_.name; }
  void Enqueue(const std::string& key);
  void EnqueueAfter(const std::string& key, absl::Duration delay);
  void Start();
  // The pass under way finishes; returns once the worker has ended.
  void Stop();
  bool running() const;
  // Passes by outcome and their durations; the keys waiting now (0 while stopped).
  const OutcomeStats& stats() const { return stats_; }
  size_t QueueLength() const;

 private:
  void Work(WorkQueue& queue);

  Reconciler& reconciler_;
  Clock& clock_;
  Logger& logger_;
  const ReconcileLoopOptions options_;
  mutable absl::Mutex mutex_;
  std::shared_ptr<WorkQueue> queue_ ABSL_GUARDED_BY(mutex_);  // null while stopped
  std::thread worker_ ABSL_GUARDED_BY(mutex_);
  OutcomeStats stats_;
};

}  // namespace opctl::controller
