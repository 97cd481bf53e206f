// The leader compacts etcd's history, as the Kubernetes API server does every five minutes: to what
// the controllers keep (history_revisions behind the newest revision), so etcd's database does not
// grow with every write ever made. A controller whose watch falls behind it relists.
#pragma once

#include "controller/runtime/reconciler.h"
#include "controller/store/store.h"

namespace opctl::controller {

inline constexpr char kCompactKey[] = "compact-etcd";

class EtcdCompactor : public Reconciler {
 public:
  EtcdCompactor(Store& store, int64_t history_revisions, absl::Duration every = absl::Minutes(5))
      : store_(store), history_revisions_(history_revisions), every_(every) {}
  // Compacts, then again after `every`.
  absl::StatusOr<ReconcileResult> Reconcile(const std::string& key) override;

 private:
  Store& store_;
  const int64_t history_revisions_;
  const absl::Duration every_;
  int64_t compacted_ = 0;  // where this leader last compacted etcd to (one worker: unguarded)
};

}  // namespace opctl::controller
