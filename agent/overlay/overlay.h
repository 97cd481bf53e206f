// A Network across hosts, as this node sees it (DESIGN.md, "Networks across hosts"): the Network's
// Docker bridge here gets a VXLAN port (its VNI from the Network's status), and for every container
// of the Network on another node, one forwarding entry (its MAC -> its node's overlay address) and
// one neighbour entry (its address -> its MAC, which the port's ARP proxy answers with). Nothing
// floods (no all-zero entry), so each host keeps the same gateway address. Level-based: each pass
// reads the kernel's entries and adds, fixes or removes what differs. Thread-safe if the dataplane is.
#pragma once

#include <set>
#include <string>

#include "absl/status/status.h"
#include "agent/overlay/dataplane.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::agent {

// A Network's MTU when its manifest gives none: 1500 less VXLAN's 50 bytes of headers.
inline constexpr int kDefaultNetworkMtu = 1450;

class Overlay {
 public:
  // `local_address`: this node's overlay address, which its peers send to.
  Overlay(OverlayDataplane& dataplane, std::string node_name, std::string local_address)
      : dataplane_(dataplane), node_name_(std::move(node_name)), local_address_(std::move(local_address)) {}

  static std::string LinkName(uint32_t vni);
  // The Docker bridge of the Docker network with this id (Docker's own naming).
  static std::string BridgeOf(const std::string& docker_network_id);

  // Makes `network`'s VXLAN link, a port of `bridge` at `mtu`, and its entries match the Network's
  // endpoints on other nodes. Nothing until the controller gave the Network its VNI.
  absl::Status Reconcile(const v1::Network& network, const std::string& bridge, int mtu);
  // Deletes this node's overlay links other than `keep` (names from LinkName).
  absl::Status CollectLinks(const std::set<std::string>& keep);

 private:
  OverlayEntries Wanted(const v1::Network& network) const;

  OverlayDataplane& dataplane_;
  const std::string node_name_;
  const std::string local_address_;
};

}  // namespace opctl::agent
