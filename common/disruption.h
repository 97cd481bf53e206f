// The one rule the controller and the agents share for telling the control plane's trouble from the
// nodes': when `out_of_contact` of `registered` nodes are out of contact with the controller at once,
// at least two and more than half, it is a disruption (Kubernetes' zone disruption): the controller
// marks and moves nothing, and an agent that sees it from its peers holds its fence.
#pragma once

#include <cstddef>

namespace opctl {

inline bool IsDisruption(size_t out_of_contact, size_t registered) {
  return out_of_contact >= 2 && out_of_contact * 2 > registered;
}

}  // namespace opctl
