// Placement of a Container on a Node: a pure function of the container, the nodes and what is
// already bound to them. Thread-safe (no state).
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::controller {

// True when the Node's Ready condition is True.
bool NodeIsReady(const v1::Node& node);
// The reason of the Node's Ready condition ("" without one).
std::string ReadyReason(const v1::Node& node);

// What the containers bound to one node take of it.
struct NodeLoad {
  int64_t memory_bytes = 0;  // reserved
  int containers = 0;
  std::map<std::string, int> per_service;  // containers of each Service
  // Services the containers here keep apart from (their placement.apartFrom), with how many ask.
  std::map<std::string, int> kept_apart;
};
using NodeLoads = std::map<std::string, NodeLoad>;  // by node name

// Adds (sign 1) or removes (sign -1) a bound container's share of its node.
void CountOnNode(const v1::Container& container, int sign, NodeLoads& loads);
// The loads of a list of containers (those without a node are skipped).
NodeLoads LoadsOf(const std::vector<v1::Container>& containers);

// Picks the node for `container` among Ready, schedulable nodes that match its node selector and have
// room for its memory reservation next to what `loads` already holds, and at least as many CPUs as its
// CPU limit, and whose containers its placement (and theirs) lets it join. Spreads replicas: fewest containers of the
// same service first, then most free memory, then name. `loads` must not count `container` itself. FAILED_PRECONDITION
// when none fits, with the count of nodes ruled out by each reason, e.g. "0/3 nodes can run it: 1 not ready, 2 short of
// memory (needs 1Gi)".
absl::StatusOr<std::string> ChooseNode(const v1::Container& container, const std::vector<v1::Node>& nodes,
                                       const NodeLoads& loads);

}  // namespace opctl::controller
