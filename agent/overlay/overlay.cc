#include "agent/overlay/overlay.h"

#include "absl/strings/str_cat.h"
#include "common/ipv4.h"

namespace opctl::agent {

std::string Overlay::LinkName(uint32_t vni) { return absl::StrCat(kOverlayLinkPrefix, vni); }

std::string Overlay::BridgeOf(const std::string& docker_network_id) {
  return absl::StrCat("br-", docker_network_id.substr(0, 12));
}

OverlayEntries Overlay::Wanted(const v1::Network& network) const {
  OverlayEntries wanted;
  for (const v1::NetworkEndpoint& endpoint : network.status().endpoints()) {
    // A node without an overlay address cannot be reached; one on this node is on the bridge itself.
    if (endpoint.node() == node_name_ || endpoint.node_address().empty()) continue;
    if (endpoint.node_address() == local_address_) continue;
    absl::StatusOr<uint32_t> address = ParseIpv4(endpoint.address());
    if (!address.ok()) continue;
    std::string mac = MacAddressFor(*address);
    wanted.forwarding[mac] = endpoint.node_address();
    wanted.neighbours[endpoint.address()] = mac;
  }
  return wanted;
}

absl::Status Overlay::Reconcile(const v1::Network& network, const std::string& bridge, int mtu) {
  uint32_t vni = static_cast<uint32_t>(network.status().vni());
  if (vni == 0) return absl::OkStatus();
  std::string link = LinkName(vni);
  absl::Status ensured = dataplane_.EnsureLink({link, vni, local_address_, mtu, bridge});
  if (!ensured.ok()) return ensured;
  absl::StatusOr<OverlayEntries> have = dataplane_.ReadEntries(link);
  if (!have.ok()) return have.status();
  OverlayEntries want = Wanted(network);
  absl::Status result;
  for (const auto& [mac, remote] : have->forwarding) {
    if (!want.forwarding.count(mac)) result.Update(dataplane_.RemoveForwarding(link, mac));
  }
  for (const auto& [address, mac] : have->neighbours) {
    if (!want.neighbours.count(address)) result.Update(dataplane_.RemoveNeighbour(link, address));
  }
  for (const auto& [mac, remote] : want.forwarding) {
    auto found = have->forwarding.find(mac);
    if (found == have->forwarding.end() || found->second != remote) {
      result.Update(dataplane_.SetForwarding(link, mac, remote));
    }
  }
  for (const auto& [address, mac] : want.neighbours) {
    auto found = have->neighbours.find(address);
    if (found == have->neighbours.end() || found->second != mac) {
      result.Update(dataplane_.SetNeighbour(link, address, mac));
    }
  }
  return result;
}

absl::Status Overlay::CollectLinks(const std::set<std::string>& keep) {
  absl::StatusOr<std::vector<std::string>> links = dataplane_.ListLinks();
  if (!links.ok()) return links.status();
  absl::Status result;
  for (const std::string& link : *links) {
    if (!keep.count(link)) result.Update(dataplane_.DeleteLink(link));
  }
  return result;
}

}  // namespace opctl::agent
