// The store as the leader's controllers write it: every commit carries the current leadership's fence
// (Transaction::fence), and none is sent while this process does not lead. Reads and watches go to
// the store underneath unchanged.
//
// Thread-safe.
#pragma once

#include <optional>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "controller/store/store.h"

namespace opctl::controller {

class FencedStore : public Store {
 public:
  explicit FencedStore(Store& store) : store_(store) {}

  // The leadership now held (the election sets it on winning), or none.
  void SetFence(std::optional<Fence> fence) {
    absl::MutexLock lock(&mutex_);
    fence_ = std::move(fence);
  }

  void Commit(Transaction transaction, CommitCallback done) override {
    {
      absl::MutexLock lock(&mutex_);
      transaction.fence = fence_;
    }
    if (!transaction.fence) {
      done(absl::FailedPreconditionError("this controller does not lead now: a leader's write is not sent"));
      return;
    }
    store_.Commit(std::move(transaction), std::move(done));
  }
  using Store::Commit;

  absl::StatusOr<KeyValue> Get(absl::string_view key) const override { return store_.Get(key); }
  RangeResult Range(absl::string_view prefix) const override { return store_.Range(prefix); }
  RangeResult RangePage(absl::string_view prefix, absl::string_view after, size_t limit) const override {
    return store_.RangePage(prefix, after, limit);
  }
  int64_t Revision() const override { return store_.Revision(); }
  absl::Status ReadsCurrent() const override { return store_.ReadsCurrent(); }
  int64_t CompactedRevision() const override { return store_.CompactedRevision(); }
  absl::StatusOr<std::vector<Event>> EventsAfter(int64_t after) const override { return store_.EventsAfter(after); }
  absl::Status Compact(int64_t revision) override { return store_.Compact(revision); }
  // The listener belongs to the store underneath (one watch hub for the process).
  void SetCommitListener(CommitListener) override {}

 private:
  Store& store_;
  absl::Mutex mutex_;
  std::optional<Fence> fence_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace opctl::controller
