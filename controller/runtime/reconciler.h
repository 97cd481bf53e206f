// The one shape every controller of opctl-controller has (controller-runtime's Reconciler): given a
// key, read what is wanted and what is, and move what is one step toward what is wanted. Level-based:
// a pass never depends on which change queued the key, so a lost or folded event costs nothing.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace opctl::controller {

struct ReconcileResult {
  // Look at the key again after this long even if nothing changes (a settle time, a periodic check).
  absl::Duration requeue_after = absl::ZeroDuration();
};

class Reconciler {
 public:
  virtual ~Reconciler() = default;
  // An error retries the key with backoff; ABORTED (someone wrote first) is expected and not logged.
  // Runs on one worker thread at a time per key; it may block on the store.
  virtual absl::StatusOr<ReconcileResult> Reconcile(const std::string& key) = 0;
};

}  // namespace opctl::controller
