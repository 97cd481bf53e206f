// The in-process controllers of opctl-controller, on the runtime's Manager, and what wakes each:
//
//   services    (key: Service name)  Service -> Containers and template Volumes, the Service's status;
//                                    woken by its Service and by any of its Containers.
//   scheduling  (key: kScheduleKey)  binds unbound Containers; woken by an unbound Container and by a
//                                    Node whose readiness, cordon, labels or capacity changed.
//   evacuation  (key: Node name)     moves or marks the Containers of a NotReady Node; woken when a
//                                    Node turns NotReady or NotReady for another reason.
//   endpoints   (key: Network name)  a Network's VXLAN identifier and endpoint list; woken by the
//                                    Network, by any Container attached to it, and by a Node whose
//                                    overlay address changed.
//
// All four write, so they run only while this process leads. The placement index follows the
// Container informer always: agents are answered from it on any controller process.
#pragma once

#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event_recorder.h"
#include "controller/placement_index.h"
#include "controller/reconcilers/network_endpoints_reconciler.h"
#include "controller/reconcilers/node_evacuation_reconciler.h"
#include "controller/reconcilers/scheduling_reconciler.h"
#include "controller/reconcilers/service_reconciler.h"
#include "controller/registry.h"
#include "controller/runtime/manager.h"

namespace opctl::controller {

struct ControllersOptions {
  // See NodeEvacuationReconciler.
  absl::Duration silent_node_settle = absl::Seconds(1);
  // The controller policy's hostPathRoots, copied into Containers that mount host paths.
  std::vector<std::string> host_path_roots;
  EventRecorder* events = &NoEvents::Instance();  // not owned
};

class Controllers {
 public:
  // Registers the controllers and their event handlers on `manager` (before its Start).
  Controllers(Manager& manager, Registry& registry, Clock& clock, ControllersOptions options = {});
  // Stops the manager first: its loops and handlers call into these reconcilers.
  ~Controllers() { manager_.Stop(); }

  const PlacementIndex& placement() const { return placement_; }
  // The reconcilers, for tests that drive passes by hand.
  ServiceReconciler& services() { return services_; }
  SchedulingReconciler& scheduling() { return scheduling_; }
  NodeEvacuationReconciler& evacuation() { return evacuation_; }
  NetworkEndpointsReconciler& endpoints() { return endpoints_; }

 private:
  void OnContainer(const ObjectChange& change);
  void OnNode(const ObjectChange& change);

  Manager& manager_;
  Registry& registry_;
  PlacementIndex placement_;
  ServiceReconciler services_;
  SchedulingReconciler scheduling_;
  NodeEvacuationReconciler evacuation_;
  NetworkEndpointsReconciler endpoints_;
  ReconcileLoop* service_loop_ = nullptr;
  ReconcileLoop* scheduling_loop_ = nullptr;
  ReconcileLoop* evacuation_loop_ = nullptr;
  ReconcileLoop* endpoints_loop_ = nullptr;
};

}  // namespace opctl::controller
