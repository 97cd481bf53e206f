// A Store that hands everything to another: the base of stores that change one thing (how long a
// commit takes, when it lands, or that it waits), so each states only that.
#pragma once

#include "controller/store/store.h"

namespace opctl::controller {

class ForwardingStore : public Store {
 public:
  explicit ForwardingStore(Store& inner) : inner_(inner) {}

  absl::StatusOr<KeyValue> Get(absl::string_view key) const override { return inner_.Get(key); }
  RangeResult Range(absl::string_view prefix) const override { return inner_.Range(prefix); }
  RangeResult RangePage(absl::string_view prefix, absl::string_view after, size_t limit) const override {
    return inner_.RangePage(prefix, after, limit);
  }
  using Store::Commit;
  void Commit(Transaction transaction, CommitCallback done) override {
    inner_.Commit(std::move(transaction), std::move(done));
  }
  int64_t Revision() const override { return inner_.Revision(); }
  absl::Status ReadsCurrent() const override { return inner_.ReadsCurrent(); }
  uint64_t Syncs() const override { return inner_.Syncs(); }
  int64_t CompactedRevision() const override { return inner_.CompactedRevision(); }
  absl::StatusOr<std::vector<Event>> EventsAfter(int64_t after) const override { return inner_.EventsAfter(after); }
  absl::Status Compact(int64_t revision) override { return inner_.Compact(revision); }
  void SetCommitListener(CommitListener listener) override { inner_.SetCommitListener(std::move(listener)); }

 protected:
  Store& inner_;
};

}  // namespace opctl::controller
