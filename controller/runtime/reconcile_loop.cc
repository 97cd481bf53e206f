#include "controller/runtime/reconcile_loop.h"

#include "absl/strings/str_cat.h"

namespace opctl::controller {

ReconcileLoop::ReconcileLoop(Reconciler& reconciler, Clock& clock, Logger& logger, ReconcileLoopOptions options)
    : reconciler_(reconciler), clock_(clock), logger_(logger), options_(std::move(options)) {}

ReconcileLoop::~ReconcileLoop() { Stop(); }

void ReconcileLoop::Enqueue(const std::string& key) {
  absl::MutexLock lock(&mutex_);
  if (queue_) queue_->Add(key);
}

void ReconcileLoop::EnqueueAfter(const std::string& key, absl::Duration delay) {
  absl::MutexLock lock(&mutex_);
  if (queue_) queue_->AddAfter(key, delay);
}

void ReconcileLoop::Start() {
  absl::MutexLock lock(&mutex_);
  if (queue_) return;
  queue_ = std::make_shared<WorkQueue>(clock_, options_.rate_limiter ? options_.rate_limiter() : nullptr);
  if (options_.resync) {
    for (const std::string& key : options_.resync()) queue_->Add(key);
  }
  worker_ = std::thread([this, queue = queue_] { Work(*queue); });
}

void ReconcileLoop::Stop() {
  std::thread worker;
  {
    absl::MutexLock lock(&mutex_);
    if (!queue_) return;
    queue_->ShutDown();
    queue_.reset();
    worker = std::move(worker_);
  }
  if (worker.joinable()) worker.join();
}

size_t ReconcileLoop::QueueLength() const {
  absl::MutexLock lock(&mutex_);
  return queue_ ? queue_->Length() : 0;
}

bool ReconcileLoop::running() const {
  absl::MutexLock lock(&mutex_);
  return queue_ != nullptr;
}

void ReconcileLoop::Work(WorkQueue& queue) {
  while (std::optional<std::string> key = queue.Get()) {
    if (options_.before_pass) options_.before_pass();
    absl::Time started = clock_.Now();
    absl::StatusOr<ReconcileResult> result = reconciler_.Reconcile(*key);
    absl::Duration took = clock_.Now() - started;
    stats_.Record(result.status(), took);
    if (logger_.Verbose(2)) {
      logger_.Debug(2, options_.name,
                    absl::StrCat(*key, ": ", result.ok() ? "done" : result.status().ToString(), " in ",
                                 absl::FormatDuration(took)));
    }
    if (!result.ok()) {
      // Conflicts are normal (someone wrote first); anything else is worth a line, the first time
      // and every tenth, so a key that keeps failing neither floods the log nor goes quiet.
      int failures = queue.Failures(*key) + 1;
      if (!absl::IsAborted(result.status()) && (failures == 1 || failures % 10 == 0)) {
        logger_.Warn(options_.name, absl::StrCat(*key, ": ", result.status().ToString(),
                                                 failures > 1 ? absl::StrCat(" (attempt ", failures, ")") : ""));
      }
      queue.AddRateLimited(*key);
    } else {
      queue.Forget(*key);
      if (result->requeue_after > absl::ZeroDuration()) queue.AddAfter(*key, result->requeue_after);
    }
    queue.Done(*key);
  }
}

}  // namespace opctl::controller
