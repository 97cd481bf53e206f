// The store with its commits counted by outcome and timed from Commit to the answer (the disk sync,
// or etcd's round trip, included), for metrics. Everything else passes through.
#pragma once

#include "absl/time/clock.h"
#include "common/latency_histogram.h"
#include "controller/store/forwarding_store.h"

namespace opctl::controller {

class MeasuredStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  using Store::Commit;
  void Commit(Transaction transaction, CommitCallback done) override {
    absl::Time started = absl::Now();
    inner_.Commit(std::move(transaction), [this, started, done = std::move(done)](absl::StatusOr<int64_t> revision) {
      commits_.Record(revision.status(), absl::Now() - started);
      done(std::move(revision));
    });
  }
  const OutcomeStats& commits() const { return commits_; }

 private:
  OutcomeStats commits_;
};

}  // namespace opctl::controller
