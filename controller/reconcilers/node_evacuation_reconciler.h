// Containers leaving a node. Node loss: for a NotReady Node, unbinds the Containers that may move
// (the scheduler then places them elsewhere; for a silent node only once the settle time has passed,
// so its own fence has removed them first) and marks the others Unknown, bound where their data is.
// Eviction (drain): unbinds an evicted Container once its node reports it removed. Key: the Node's name.
#pragma once

#include <string>

#include "common/clock.h"
#include "common/event_recorder.h"
#include "controller/placement_index.h"
#include "controller/registry.h"
#include "controller/runtime/reconciler.h"

namespace opctl::controller {

class NodeEvacuationReconciler : public Reconciler {
 public:
  // `silent_node_settle`: how long after a node turns NotReady for silence the containers that may
  // move wait before they are scheduled elsewhere; with the agent's own fence 750 ms before the grace
  // ends, this is the time its dockerd has to remove them under load. A node whose fence guard
  // reported them removed (reason AgentStopped) has them moved at once.
  NodeEvacuationReconciler(Registry& registry, const PlacementIndex& placement, Clock& clock,
                           absl::Duration silent_node_settle = absl::Seconds(1),
                           EventRecorder& events = NoEvents::Instance())
      : registry_(registry),
        placement_(placement),
        clock_(clock),
        silent_node_settle_(silent_node_settle),
        events_(events) {}

  absl::StatusOr<ReconcileResult> Reconcile(const std::string& node) override;

 private:
  // Marks a container that stays Unknown, once.
  absl::Status MarkStaying(v1::Object object, const std::string& why, absl::Time now);
  // The second half of an eviction (Registry::Evict): unbinds the containers the node reports removed.
  absl::Status UnbindEvicted(const std::string& node_name);

  Registry& registry_;
  const PlacementIndex& placement_;
  Clock& clock_;
  const absl::Duration silent_node_settle_;
  EventRecorder& events_;  // hears Rescheduled, Evicted and NodeLost
};

}  // namespace opctl::controller
