// Everything of a controller that is not its gRPC edge, over one store, built in dependency order and
// torn down in reverse: the watch hub, the registry (and, on etcd, the fenced registry the elected
// leader's loops write through), the manager with its controllers, the node monitor and etcd's
// compactor. Alone on SQLite it leads from the start; on etcd a Leadership switches the loops.
#pragma once

#include "common/clock.h"
#include "common/logger.h"
#include "controller/container_policy.h"
#include "controller/controllers.h"
#include "controller/election/etcd_compactor.h"
#include "controller/events/event_writer.h"
#include "controller/node_monitor.h"
#include "controller/registry.h"
#include "controller/runtime/manager.h"
#include "controller/store/fenced_store.h"
#include "controller/watch_hub.h"

namespace opctl::controller {

struct ControlPlaneOptions {
  bool elected = false;  // several controllers on etcd: leader-only loops wait for the election
  absl::Duration bookmark_interval = absl::Seconds(5);
  absl::Duration silent_node_settle = absl::Seconds(1);
  absl::Duration node_grace = absl::Milliseconds(2500);
  int64_t history_revisions = 10000;
  EventWriterOptions events;
};

class ControlPlane {
 public:
  ControlPlane(Store& store, ContainerPolicy policy, ControlPlaneOptions options);
  ~ControlPlane();  // the loops stop before what they call into goes
  absl::Status Start();

  WatchHub& hub() { return hub_; }
  Registry& registry() { return registry_; }
  FencedStore& fenced() { return fenced_; }
  Manager& manager() { return manager_; }
  Controllers& controllers() { return controllers_; }
  EventWriter& events() { return events_; }
  NodeMonitor& node_monitor() { return node_monitor_; }

 private:
  const ControlPlaneOptions options_;
  WatchHub hub_;
  Registry registry_;
  FencedStore fenced_;
  Registry leader_registry_;  // what the leader-only loops write through: fenced when elected
  // Every controller writes Events (unfenced: agents report to whichever they reach).
  EventWriter events_;
  Manager manager_;
  Controllers controllers_;
  NodeMonitor node_monitor_;
  EtcdCompactor compactor_;
};

}  // namespace opctl::controller
