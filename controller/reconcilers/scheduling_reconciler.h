// Scheduling: binds every unbound Container to a Node (scheduler.h chooses), or records in its status
// why none fits. One key (kScheduleKey) stands for "every unbound Container": a pass costs the
// containers waiting, read from the placement index, not a read of every container (unless one of
// them needs an address handed out: see address_allocator.h).
#pragma once

#include <optional>
#include <string>

#include "common/clock.h"
#include "common/event_recorder.h"
#include "controller/address_allocator.h"
#include "controller/placement_index.h"
#include "controller/registry.h"
#include "controller/runtime/reconciler.h"

namespace opctl::controller {

inline constexpr char kScheduleKey[] = "unbound";

class SchedulingReconciler : public Reconciler {
 public:
  // `events` hears Scheduled and FailedScheduling.
  SchedulingReconciler(Registry& registry, const PlacementIndex& placement, Clock& clock,
                       EventRecorder& events = NoEvents::Instance())
      : registry_(registry), placement_(placement), clock_(clock), events_(events) {}

  absl::StatusOr<ReconcileResult> Reconcile(const std::string& key) override;

 private:
  // Addresses for the container's attachments that need one (address_allocator.h); `addresses` is
  // made on first need and shared by the pass.
  absl::Status AssignAddresses(v1::ContainerSpec& spec, std::optional<AddressAllocator>& addresses);
  // Writes why `container` fits nowhere, unless its status says so already.
  absl::Status RecordUnschedulable(v1::Container container, const std::string& why, absl::Time now);

  Registry& registry_;
  const PlacementIndex& placement_;
  Clock& clock_;
  EventRecorder& events_;
};

}  // namespace opctl::controller
