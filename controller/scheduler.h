// Placement of a Container on a Node: a pure function of the container, the nodes and what is
// already bound to them. Thread-safe (no state).
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::controller {

// True when the Node's Ready condition is True.
bool NodeIsReady(const v1::Node& node);

// Picks the node for `container` among Ready, schedulable nodes that match its node selector and have
// room for its memory reservation next to `bound` (containers already on nodes) and at least as many
// CPUs as its CPU limit. Spreads
// replicas: fewest containers of the same service first, then most free memory, then name.
// FAILED_PRECONDITION when none fits, with the count of nodes ruled out by each reason, e.g.
// "0/3 nodes can run it: 1 not ready, 2 short of memory (needs 1Gi)".
absl::StatusOr<std::string> ChooseNode(const v1::Container& container, const std::vector<v1::Node>& nodes,
                                       const std::vector<v1::Container>& bound);

}  // namespace opctl::controller
