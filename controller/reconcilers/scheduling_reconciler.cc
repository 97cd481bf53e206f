#include "controller/reconcilers/scheduling_reconciler.h"

#include "absl/strings/str_cat.h"
#include "common/api_names.h"
#include "common/conditions.h"
#include "common/event_fold.h"
#include "controller/address_allocator.h"
#include "controller/reconcilers/registry_calls.h"
#include "controller/scheduler.h"

namespace opctl::controller {

absl::StatusOr<ReconcileResult> SchedulingReconciler::Reconcile(const std::string&) {
  std::vector<v1::Node> nodes;
  for (v1::Object& node : registry_.ListKind(kKindNode)) nodes.push_back(std::move(*node.mutable_node()));
  NodeLoads loads = placement_.Loads();
  absl::Status result = absl::OkStatus();
  absl::Time now = clock_.Now();
  // Choices are made one by one (each sees the ones before, for spreading); the bindings are written
  // together.
  std::vector<v1::Object> bindings;
  std::optional<AddressAllocator> addresses;  // read from the store once some container needs one
  for (const std::string& name : placement_.Unbound()) {
    absl::StatusOr<v1::Object> object = registry_.Get(kKindContainer, name);
    if (!object.ok() || !object->container().spec().node_name().empty()) continue;
    v1::Container& container = *object->mutable_container();
    absl::StatusOr<std::string> node = ChooseNode(container, nodes, loads);
    absl::Status addressed = node.status();
    if (node.ok()) addressed = AssignAddresses(*container.mutable_spec(), addresses);
    if (!addressed.ok()) {
      result.Update(RecordUnschedulable(std::move(container), std::string(addressed.message()), now));
      continue;
    }
    container.mutable_spec()->set_node_name(*node);
    container.mutable_spec()->set_evicting(false);
    container.mutable_spec()->set_binding_generation(container.spec().binding_generation() + 1);
    SetCondition(container.mutable_status()->mutable_conditions(), kConditionScheduled, true, kReasonBound,
                 absl::StrCat("bound to node ", *node), now);
    CountOnNode(container, 1, loads);
    bindings.push_back(*std::move(object));
  }
  absl::Status bound = PutAll(registry_, bindings).status();
  if (bound.ok()) {
    for (const v1::Object& object : bindings) {
      events_.Record(OccurrenceOf(object, kEventNormal, "Scheduled",
                                  absl::StrCat("assigned to node ", object.container().spec().node_name())));
    }
  }
  result.Update(bound);
  if (!result.ok()) return result;
  return ReconcileResult{};
}

absl::Status SchedulingReconciler::AssignAddresses(v1::ContainerSpec& spec,
                                                   std::optional<AddressAllocator>& addresses) {
  if (!addresses) {
    // Only Networks matter for Needs: every Service and Container is read once some container needs one.
    std::vector<v1::Object> networks = registry_.ListKind(kKindNetwork);
    if (!AddressAllocator(networks, {}, {}).Needs(spec)) return absl::OkStatus();
    addresses.emplace(networks, registry_.ListKind(kKindService), registry_.ListKind(kKindContainer));
  }
  return addresses->Assign(spec);
}

absl::Status SchedulingReconciler::RecordUnschedulable(v1::Container container, const std::string& why,
                                                       absl::Time now) {
  {
    v1::Object object;
    *object.mutable_container() = container;
    events_.Record(OccurrenceOf(object, kEventWarning, "FailedScheduling", why));
  }
  // Once: rewriting the same reason on every pass would only wake every watcher.
  const v1::Condition* scheduled = FindCondition(container.status().conditions(), kConditionScheduled);
  if (container.status().phase() == kPhasePending && scheduled != nullptr && scheduled->message() == why) {
    return absl::OkStatus();
  }
  v1::ContainerStatus* status = container.mutable_status();
  status->set_phase(kPhasePending);
  SetCondition(status->mutable_conditions(), kConditionScheduled, false, kReasonUnschedulable, why, now);
  v1::Object object;
  int64_t version = container.metadata().resource_version();
  *object.mutable_container() = std::move(container);
  return Wait<v1::Object>([&](auto done) { registry_.UpdateStatus(object, version, done); }).status();
}

}  // namespace opctl::controller
