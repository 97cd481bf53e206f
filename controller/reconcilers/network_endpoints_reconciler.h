// Networks across hosts: gives each Network its VXLAN identifier once a container uses it (the
// lowest one no other Network holds, from kFirstVni) and keeps its status' endpoint list current: every Container bound
// to a node with an address on it, and the address that node's VXLAN endpoint answers on. Every agent gets every
// Network, so this list is what each one programs its overlay from (agent/overlay/). Its Ready condition says on which
// nodes the Network could not be made or stretched, and why (from the reasons its Containers report). Key: the
// Network's name. One loop worker: two Networks never draw the same identifier.
#pragma once

#include <string>

#include "common/clock.h"
#include "controller/registry.h"
#include "controller/runtime/reconciler.h"

namespace opctl::controller {

// Clear of the small identifiers people pick by hand.
inline constexpr int kFirstVni = 4096;

class NetworkEndpointsReconciler : public Reconciler {
 public:
  NetworkEndpointsReconciler(Registry& registry, Clock& clock) : registry_(registry), clock_(clock) {}

  absl::StatusOr<ReconcileResult> Reconcile(const std::string& network) override;

  // The Networks a Container is attached to (for the event handler).
  static std::vector<std::string> NetworksOf(const v1::Container& container);

 private:
  // The identifier `network` holds, or the lowest free one.
  int VniFor(const v1::Network& network) const;

  Registry& registry_;
  Clock& clock_;
};

}  // namespace opctl::controller
