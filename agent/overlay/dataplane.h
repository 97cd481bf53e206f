// What the overlay programs into the kernel, behind an interface so that its logic is tested without
// one: a VXLAN link per Network, enslaved to that Network's Docker bridge, and per remote container
// one forwarding entry (its MAC -> its node's address) and one neighbour entry (its IP -> its MAC,
// answered by the link's ARP proxy). netlink_dataplane.h is the kernel's.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace opctl::agent {

// The VXLAN links opctl makes are named "opx-<vni>" (at most 12 characters of the kernel's 15).
inline constexpr char kOverlayLinkPrefix[] = "opx-";
inline constexpr uint16_t kVxlanPort = 4789;  // IANA's VXLAN port, as Docker's overlay and flannel use

struct VxlanLinkSpec {
  std::string name;
  uint32_t vni = 0;
  std::string local_address;  // this node's overlay address (IPv4)
  int mtu = 0;
  std::string bridge;  // the Docker bridge it is a port of
};

struct OverlayEntries {
  std::map<std::string, std::string> forwarding;  // MAC -> the remote node's address
  std::map<std::string, std::string> neighbours;  // IPv4 -> MAC
  bool operator==(const OverlayEntries&) const = default;
};

class OverlayDataplane {
 public:
  virtual ~OverlayDataplane() = default;
  // Makes the link match `spec`: created when missing, made again when its identifier, local address
  // or port differ (or it is not a VXLAN link), and up, at the MTU, with learning off, the ARP proxy
  // on and a port of the bridge. NOT_FOUND when the bridge is not there.
  virtual absl::Status EnsureLink(const VxlanLinkSpec& spec) = 0;
  // The names of this host's links that start with kOverlayLinkPrefix.
  virtual absl::StatusOr<std::vector<std::string>> ListLinks() = 0;
  virtual absl::Status DeleteLink(const std::string& name) = 0;  // OK when already gone
  virtual absl::StatusOr<OverlayEntries> ReadEntries(const std::string& link) = 0;
  virtual absl::Status SetForwarding(const std::string& link, const std::string& mac, const std::string& remote) = 0;
  virtual absl::Status RemoveForwarding(const std::string& link, const std::string& mac) = 0;
  virtual absl::Status SetNeighbour(const std::string& link, const std::string& address, const std::string& mac) = 0;
  virtual absl::Status RemoveNeighbour(const std::string& link, const std::string& address) = 0;
};

}  // namespace opctl::agent
