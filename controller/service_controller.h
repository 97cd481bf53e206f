// The in-process controllers of opctl-controller: Service -> Containers (stable ordinals, static
// addresses, per-replica volumes, readiness in the Service's status) and the scheduling of unbound
// Containers onto Nodes. Level-based: each pass reads what is wanted and what is, never what changed.
//
// Thread-safe. Watch events only enqueue keys; one worker thread processes them.
#pragma once

#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "common/work_queue.h"
#include "controller/placement_index.h"
#include "controller/registry.h"
#include "controller/watch_hub.h"

namespace opctl::controller {

// The Containers a Service wants, without node binding or status: "<service>-<ordinal>", each with
// its static address, its volume-template volumes mounted, owned by the Service, and, when the
// template mounts host paths, the policy's `host_path_roots` for the node to check them against.
std::vector<v1::Container> DesiredContainers(const v1::Service& service,
                                             const std::vector<std::string>& host_path_roots = {});
// "<template>-<service>-<ordinal>", the Volume a volume template gives one replica.
std::string TemplateVolumeName(const std::string& template_name, const std::string& service, int ordinal);

struct ServiceControllerOptions {
  // How long after a node turns NotReady for silence the containers that may move wait before they
  // are scheduled elsewhere: with the agent's own fence 750 ms before the grace ends, this is the
  // time its dockerd has to remove them under load. A node whose fence guard reported them removed
  // (reason AgentStopped) has them moved at once.
  absl::Duration silent_node_settle = absl::Seconds(1);
  // The controller policy's hostPathRoots, copied into Containers that mount host paths.
  std::vector<std::string> host_path_roots;
};

class ServiceController {
 public:
  ServiceController(Registry& registry, WatchHub& hub, ServiceControllerOptions options = {});
  ~ServiceController();  // stops the worker

  // Follows the store's changes: keeps the placement index and queues the keys they touch. Start
  // calls it; tests that drive passes by hand call it alone.
  absl::Status Follow();
  // Follows changes and starts the worker; every Service gets a first pass.
  absl::Status Start();

  // One pass over one Service: create, update and delete its Containers and template Volumes, then
  // write its status. Public so tests can drive it without threads.
  absl::Status SyncService(const std::string& name);
  // Binds every unbound Container to a Node, or records in its status why none fits.
  absl::Status ScheduleContainers();
  // For a NotReady node: unbinds the Containers that may move (to be scheduled again elsewhere; for a
  // silent node only once the settle time has passed) and marks the others unavailable, bound where
  // their data is.
  absl::Status EvacuateNode(const std::string& node);

  const PlacementIndex& placement() const { return placement_; }

 private:
  void OnChanges(const std::vector<ChangePtr>& changes);
  void Work();

  Registry& registry_;
  WatchHub& hub_;
  const ServiceControllerOptions options_;
  PlacementIndex placement_;
  WorkQueue queue_;
  uint64_t subscription_ = 0;
  std::thread worker_;
};

}  // namespace opctl::controller
