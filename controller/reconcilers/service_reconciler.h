// Service -> Containers: keeps exactly `replicas` Containers named "<service>-<ordinal>" with static
// addresses and per-replica template Volumes, rolls a changed template a few replicas at a time
// (service_rollout.h keeps its history and deadline), and writes the Service's readiness into its
// status. Key: the Service's name.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event_recorder.h"
#include "controller/reconcilers/service_rollout.h"
#include "controller/registry.h"
#include "controller/runtime/reconciler.h"

namespace opctl::controller {

class ServiceReconciler : public Reconciler {
 public:
  // `host_path_roots`: the controller policy's, copied into Containers that mount host paths.
  // `events` hears SuccessfulCreate, SuccessfulDelete and Replacing on the Service.
  ServiceReconciler(Registry& registry, Clock& clock, std::vector<std::string> host_path_roots = {},
                    EventRecorder& events = NoEvents::Instance())
      : registry_(registry), clock_(clock), host_path_roots_(std::move(host_path_roots)), events_(events) {}

  absl::StatusOr<ReconcileResult> Reconcile(const std::string& service) override;

 private:
  // The desired Containers split by how they are written: at once (new replicas, metadata changes) or
  // rolled one at a time (spec changes).
  struct Plan {
    std::vector<v1::Object> desired;
    std::vector<v1::Object> immediate;
    std::vector<size_t> outdated;  // indices into `desired`
  };

  absl::Status EnsureTemplateVolumes(const v1::Service& service);
  Plan PlanContainers(const v1::Service& service, const std::map<std::string, v1::Object>& existing) const;
  // How many existing replicas run the current template and are ready.
  static int UpdatedReady(const Plan& plan, const std::map<std::string, v1::Object>& existing);
  absl::Status Roll(const v1::Object& service, const Plan& plan, const std::map<std::string, v1::Object>& existing,
                    int max_unavailable);
  absl::Status RemoveSurplus(const v1::Object& service, const Plan& plan,
                             const std::map<std::string, v1::Object>& existing);
  absl::Status WriteStatus(const v1::Object& service, const RolloutProgress& progress);

  Registry& registry_;
  Clock& clock_;
  const std::vector<std::string> host_path_roots_;
  EventRecorder& events_;
};

}  // namespace opctl::controller
