#include "controller/election/etcd_compactor.h"

namespace opctl::controller {

absl::StatusOr<ReconcileResult> EtcdCompactor::Reconcile(const std::string&) {
  int64_t to = store_.Revision() - history_revisions_;
  if (to > compacted_) {
    absl::Status compacted = store_.Compact(to);
    // Already compacted that far (by an earlier leader): etcd says OUT_OF_RANGE, and that is done too.
    if (!compacted.ok() && !absl::IsOutOfRange(compacted)) return compacted;
    compacted_ = to;
  }
  return ReconcileResult{every_};
}

}  // namespace opctl::controller
