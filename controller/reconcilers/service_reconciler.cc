#include "controller/reconcilers/service_reconciler.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/api_names.h"
#include "common/conditions.h"
#include "common/event_fold.h"
#include "common/object.h"
#include "controller/reconcilers/desired_containers.h"
#include "controller/reconcilers/registry_calls.h"
#include "controller/reconcilers/service_rollout.h"
#include "controller/scheduler.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::controller {
namespace {

using google::protobuf::util::MessageDifferencer;

// A Service's Containers: they are named "<service>-<ordinal>", so a name range of the store holds
// them (and those of a service named "<service>-x", which the filter drops).
std::vector<v1::Object> ContainersOf(const Registry& registry, const std::string& service) {
  std::vector<v1::Object> owned;
  for (v1::Object& container : registry.ListNamePrefix(kKindContainer, service + "-")) {
    if (container.container().spec().service() == service) owned.push_back(std::move(container));
  }
  return owned;
}

bool SameOwnerAndLabels(const v1::ObjectMeta& want, const v1::ObjectMeta& have) {
  return MessageDifferencer::Equals(want.owner_references(0), have.owner_references(0)) &&
         std::map<std::string, std::string>(want.labels().begin(), want.labels().end()) ==
             std::map<std::string, std::string>(have.labels().begin(), have.labels().end());
}

// The scheduler handed out the addresses a Service does not fix (address_allocator.h): they stay
// the container's while it is attached to the same Network.
void KeepAllocatedAddresses(const v1::ContainerSpec& have, v1::ContainerSpec* want) {
  auto keep = [](const v1::ContainerNetwork& had, v1::ContainerNetwork* wants) {
    if (wants->ipv4_address().empty() && wants->name() == had.name()) wants->set_ipv4_address(had.ipv4_address());
  };
  if (want->has_network()) keep(have.network(), want->mutable_network());
  for (v1::ContainerNetwork& extra : *want->mutable_additional_networks()) {
    for (const v1::ContainerNetwork& had : have.additional_networks()) keep(had, &extra);
  }
}

}  // namespace

absl::StatusOr<ReconcileResult> ServiceReconciler::Reconcile(const std::string& name) {
  absl::StatusOr<v1::Object> found = registry_.Get(kKindService, name);
  std::vector<v1::Object> owned = ContainersOf(registry_, name);
  if (absl::IsNotFound(found.status())) {
    // Deleting a Service cascades in one transaction; this only catches leftovers.
    if (owned.empty()) return ReconcileResult{};
    absl::Status deleted = Wait<int64_t>([&](auto done) { registry_.DeleteObjects(owned, done); }).status();
    if (!deleted.ok()) return deleted;
    return ReconcileResult{};
  }
  if (!found.ok()) return found.status();
  const v1::Service& service = found->service();
  std::map<std::string, v1::Object> existing;
  for (v1::Object& container : owned) existing[container.container().metadata().name()] = std::move(container);

  // Per-replica volumes first, so a container never starts without its data volume.
  if (absl::Status volumes = EnsureTemplateVolumes(service); !volumes.ok()) return volumes;
  Plan plan = PlanContainers(service, existing);
  int updated_ready = UpdatedReady(plan, existing);
  bool complete = plan.outdated.empty() && updated_ready == static_cast<int>(plan.desired.size());
  RolloutProgress progress = TrackRollout(service, updated_ready, complete, clock_.Now());
  if (absl::Status written = PutAll(registry_, plan.immediate).status(); !written.ok()) return written;
  for (const v1::Object& container : plan.immediate) {
    const std::string& replica = container.container().metadata().name();
    if (!existing.count(replica)) {
      events_.Record(OccurrenceOf(*found, kEventNormal, "SuccessfulCreate", "created container " + replica));
    }
  }
  if (!progress.deadline_exceeded) {
    if (absl::Status rolled = Roll(*found, plan, existing, MaxUnavailable(service.spec().rollout())); !rolled.ok()) {
      return rolled;
    }
  }
  if (absl::Status removed = RemoveSurplus(*found, plan, existing); !removed.ok()) return removed;
  if (absl::Status status = WriteStatus(*found, progress); !status.ok()) return status;
  return ReconcileResult{progress.until_deadline};
}

int ServiceReconciler::UpdatedReady(const Plan& plan, const std::map<std::string, v1::Object>& existing) {
  int count = 0;
  for (size_t i = 0; i < plan.desired.size(); ++i) {
    auto it = existing.find(plan.desired[i].container().metadata().name());
    bool outdated = std::find(plan.outdated.begin(), plan.outdated.end(), i) != plan.outdated.end();
    if (it != existing.end() && !outdated && ContainerIsReady(it->second.container())) ++count;
  }
  return count;
}

absl::Status ServiceReconciler::EnsureTemplateVolumes(const v1::Service& service) {
  const std::string& name = service.metadata().name();
  for (int ordinal = 0; ordinal < service.spec().replicas(); ++ordinal) {
    for (const v1::VolumeTemplate& volume : service.spec().volume_templates()) {
      std::string volume_name = TemplateVolumeName(volume.name(), name, ordinal);
      if (registry_.Find(kKindVolume, volume_name)) continue;
      v1::Object object;
      v1::ObjectMeta* meta = object.mutable_volume()->mutable_metadata();
      meta->set_name(volume_name);
      meta->set_stack(service.metadata().stack());
      (*meta->mutable_labels())[kServiceLabel] = name;
      absl::StatusOr<v1::Object> created = Wait<v1::Object>([&](auto done) { registry_.Put(object, done); });
      if (!created.ok() && !absl::IsAborted(created.status())) return created.status();
    }
  }
  return absl::OkStatus();
}

ServiceReconciler::Plan ServiceReconciler::PlanContainers(const v1::Service& service,
                                                          const std::map<std::string, v1::Object>& existing) const {
  Plan plan;
  for (v1::Container& desired : DesiredContainers(service, host_path_roots_)) {
    *plan.desired.emplace_back().mutable_container() = std::move(desired);
  }
  for (size_t i = 0; i < plan.desired.size(); ++i) {
    v1::Object& desired = plan.desired[i];
    v1::Container* want = desired.mutable_container();
    auto it = existing.find(want->metadata().name());
    if (it == existing.end()) {
      want->mutable_status()->set_phase(kPhasePending);
      plan.immediate.push_back(desired);
      continue;
    }
    const v1::Container& have = it->second.container();
    // The binding belongs to the scheduler: keep it while comparing and writing.
    want->mutable_spec()->set_node_name(have.spec().node_name());
    want->mutable_spec()->set_binding_generation(have.spec().binding_generation());
    want->mutable_spec()->set_evicting(have.spec().evicting());
    KeepAllocatedAddresses(have.spec(), want->mutable_spec());
    bool same_spec = MessageDifferencer::Equals(want->spec(), have.spec());
    if (same_spec && SameOwnerAndLabels(want->metadata(), have.metadata())) continue;
    v1::ObjectMeta* meta = want->mutable_metadata();
    meta->set_uid(have.metadata().uid());
    meta->set_creation_timestamp(have.metadata().creation_timestamp());
    meta->set_resource_version(have.metadata().resource_version());
    *want->mutable_status() = have.status();
    if (same_spec)
      plan.immediate.push_back(desired);
    else
      plan.outdated.push_back(i);
  }
  return plan;
}

// A changed template rolls `max_unavailable` replicas at a time, highest ordinal first (as a
// StatefulSet does), the next once enough are ready again. An outdated replica that is not ready
// anyway goes at once, so a broken template can always be fixed by applying a good one.
absl::Status ServiceReconciler::Roll(const v1::Object& service, const Plan& plan,
                                     const std::map<std::string, v1::Object>& existing, int max_unavailable) {
  if (plan.outdated.empty()) return absl::OkStatus();
  int unready = 0;
  for (const auto& entry : existing) unready += ContainerIsReady(entry.second.container()) ? 0 : 1;
  std::vector<const v1::Object*> next;
  for (size_t i : plan.outdated) {
    if (!ContainerIsReady(existing.at(plan.desired[i].container().metadata().name()).container())) {
      next.push_back(&plan.desired[i]);
    }
  }
  for (auto i = plan.outdated.rbegin(); i != plan.outdated.rend() && unready < max_unavailable; ++i) {
    if (!ContainerIsReady(existing.at(plan.desired[*i].container().metadata().name()).container())) continue;
    next.push_back(&plan.desired[*i]);
    ++unready;
  }
  for (const v1::Object* container : next) {
    absl::Status put = Wait<v1::Object>([&](auto done) { registry_.Put(*container, done); }).status();
    if (!put.ok()) return put;
    events_.Record(OccurrenceOf(
        service, kEventNormal, "Replacing",
        absl::StrCat("updating container ", container->container().metadata().name(), " to the new template")));
  }
  return absl::OkStatus();
}

// Scale-down and leftovers: the highest ordinals go; their template volumes stay.
absl::Status ServiceReconciler::RemoveSurplus(const v1::Object& service, const Plan& plan,
                                              const std::map<std::string, v1::Object>& existing) {
  std::vector<v1::Object> surplus;
  for (const auto& entry : existing) {  // (not a structured binding: clang 14 cannot capture one)
    bool wanted = std::any_of(plan.desired.begin(), plan.desired.end(), [&](const v1::Object& desired) {
      return desired.container().metadata().name() == entry.first;
    });
    if (!wanted) surplus.push_back(entry.second);
  }
  if (surplus.empty()) return absl::OkStatus();
  absl::Status deleted = Wait<int64_t>([&](auto done) { registry_.DeleteObjects(surplus, done); }).status();
  if (!deleted.ok()) return deleted;
  for (const v1::Object& container : surplus) {
    events_.Record(OccurrenceOf(service, kEventNormal, "SuccessfulDelete",
                                "deleted container " + container.container().metadata().name()));
  }
  return deleted;
}

// Status from the containers as they are now, with the rollout's bookkeeping.
absl::Status ServiceReconciler::WriteStatus(const v1::Object& found, const RolloutProgress& progress) {
  const v1::Service& service = found.service();
  std::map<std::string, v1::Object> now_existing;
  int ready = 0;
  for (v1::Object& object : ContainersOf(registry_, service.metadata().name())) {
    ready += ContainerIsReady(object.container()) ? 1 : 0;
    now_existing[object.container().metadata().name()] = std::move(object);
  }
  int present = static_cast<int>(now_existing.size());
  Plan plan = PlanContainers(service, now_existing);
  v1::Object updated = found;
  v1::ServiceStatus* status = updated.mutable_service()->mutable_status();
  *status->mutable_revisions() = progress.status.revisions();
  status->set_last_progress_time(progress.status.last_progress_time());
  status->set_updated_ready_replicas(progress.status.updated_ready_replicas());
  status->set_observed_generation(service.metadata().generation());
  status->set_replicas(present);
  status->set_ready_replicas(ready);
  int outdated = static_cast<int>(plan.outdated.size());
  status->set_updated_replicas(std::min(present, static_cast<int>(plan.desired.size())) - outdated);
  absl::Time now = clock_.Now();
  int want = service.spec().replicas();
  std::string summary = absl::StrCat(ready, "/", want, " replicas ready");
  SetCondition(status->mutable_conditions(), kConditionAvailable, ready >= want,
               ready >= want ? kReasonReplicasReady : kReasonReplicasNotReady, summary, now);
  bool updating = ready < want || present != want || outdated > 0;
  if (progress.deadline_exceeded) {
    SetCondition(
        status->mutable_conditions(), kConditionProgressing, false, kReasonProgressDeadlineExceeded,
        absl::StrCat("revision ", status->revisions().empty() ? 0 : status->revisions().rbegin()->revision(),
                     " made no progress for ", absl::FormatDuration(ProgressDeadline(service.spec().rollout())),
                     "; the replicas not yet replaced keep serving (", summary, ")"),
        now);
  } else {
    SetCondition(status->mutable_conditions(), kConditionProgressing, updating,
                 updating ? kReasonReplicasUpdating : kReasonComplete, summary, now);
  }
  if (MessageDifferencer::Equals(*status, service.status())) return absl::OkStatus();
  return Wait<v1::Object>(
             [&](auto done) { registry_.UpdateStatus(updated, service.metadata().resource_version(), done); })
      .status();
}

}  // namespace opctl::controller
