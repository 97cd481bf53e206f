#include "controller/reconcilers/node_evacuation_reconciler.h"

#include "absl/strings/str_cat.h"
#include "common/api_names.h"
#include "common/conditions.h"
#include "common/event_fold.h"
#include "common/object.h"
#include "controller/reconcilers/registry_calls.h"
#include "controller/scheduler.h"

namespace opctl::controller {

absl::StatusOr<ReconcileResult> NodeEvacuationReconciler::Reconcile(const std::string& node_name) {
  absl::StatusOr<v1::Object> node = registry_.Get(kKindNode, node_name);
  if (absl::IsNotFound(node.status())) return ReconcileResult{};
  if (!node.ok()) return node.status();
  if (absl::Status moved = UnbindEvicted(node_name); !moved.ok()) return moved;
  if (NodeIsReady(node->node())) return ReconcileResult{};  // back already
  const v1::Condition* ready = FindCondition(node->node().status().conditions(), kConditionReady);
  const std::string why =
      absl::StrCat("node ", node_name, " is not ready", ready ? absl::StrCat(" (", ready->message(), ")") : "");
  absl::Time now = clock_.Now();
  // A silent node may still run its containers until its own fence removes them: wait for that.
  ReconcileResult result;
  if (ready != nullptr && ready->reason() == kNodeSilentReason) {
    result.requeue_after =
        std::max(absl::ZeroDuration(), ParseTimestamp(ready->last_transition_time()) + silent_node_settle_ - now);
  }
  std::vector<v1::Object> unbound;
  absl::Status written;
  for (const std::string& name : placement_.BoundTo(node_name)) {
    absl::StatusOr<v1::Object> object = registry_.Get(kKindContainer, name);
    if (!object.ok() || object->container().spec().node_name() != node_name) continue;
    v1::Container& container = *object->mutable_container();
    if (!MovesOnNodeLoss(container)) {
      written.Update(MarkStaying(*std::move(object), why, now));
      continue;
    }
    if (result.requeue_after > absl::ZeroDuration()) continue;
    // The binding generation stays: the scheduler's next binding counts up from it.
    container.mutable_spec()->set_node_name("");
    container.mutable_spec()->set_evicting(false);  // the node is lost: its fence removes its copy
    container.mutable_status()->set_phase(kPhasePending);
    SetCondition(container.mutable_status()->mutable_conditions(), kConditionScheduled, false, kReasonNodeLost,
                 why + "; moving it", now);
    unbound.push_back(*std::move(object));
  }
  absl::Status moved = PutAll(registry_, unbound).status();
  if (moved.ok()) {
    for (const v1::Object& object : unbound) {
      events_.Record(OccurrenceOf(object, kEventWarning, "Rescheduled", why + "; moving it to another node"));
    }
  }
  written.Update(moved);
  if (!written.ok()) return written;
  return result;
}

absl::Status NodeEvacuationReconciler::UnbindEvicted(const std::string& node_name) {
  std::vector<v1::Object> unbound;
  absl::Time now = clock_.Now();
  for (const std::string& name : placement_.BoundTo(node_name)) {
    absl::StatusOr<v1::Object> object = registry_.Get(kKindContainer, name);
    if (!object.ok()) continue;
    v1::Container& container = *object->mutable_container();
    // Its node has removed it (reported on the evicting spec itself): now it may run elsewhere.
    bool removed = container.status().phase() == kPhaseRemoved &&
                   container.status().observed_generation() >= container.metadata().generation();
    if (container.spec().node_name() != node_name || !container.spec().evicting() || !removed) continue;
    container.mutable_spec()->set_node_name("");
    container.mutable_spec()->set_evicting(false);
    container.mutable_status()->set_phase(kPhasePending);
    SetCondition(container.mutable_status()->mutable_conditions(), kConditionScheduled, false, kReasonEvicted,
                 absl::StrCat("evicted from node ", node_name, ", which has removed it"), now);
    unbound.push_back(*std::move(object));
  }
  absl::Status moved = PutAll(registry_, unbound).status();
  if (moved.ok()) {
    for (const v1::Object& object : unbound) {
      events_.Record(OccurrenceOf(object, kEventNormal, "Evicted",
                                  absl::StrCat("node ", node_name, " has removed it; placing it again")));
    }
  }
  return moved;
}

absl::Status NodeEvacuationReconciler::MarkStaying(v1::Object object, const std::string& why, absl::Time now) {
  v1::ContainerStatus* status = object.mutable_container()->mutable_status();
  if (status->phase() == kPhaseUnknown) return absl::OkStatus();
  status->set_phase(kPhaseUnknown);
  SetCondition(status->mutable_conditions(), kConditionScheduled, true, kReasonNodeLost,
               why + "; it stays bound there, where its volumes are (spec.onNodeLoss: Reschedule would move it)", now);
  int64_t version = object.container().metadata().resource_version();
  absl::Status marked = Wait<v1::Object>([&](auto done) { registry_.UpdateStatus(object, version, done); }).status();
  if (marked.ok()) events_.Record(OccurrenceOf(object, kEventWarning, "NodeLost", why + "; it stays bound there"));
  return marked;
}

}  // namespace opctl::controller
