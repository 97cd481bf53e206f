// The overlay's kernel side over rtnetlink, in the network namespace the agent runs in (where its
// dockerd's bridges are). Needs CAP_NET_ADMIN. Thread-safe (one socket, one request at a time).
#pragma once

#include <memory>

#include "agent/overlay/dataplane.h"
#include "agent/overlay/netlink_socket.h"

namespace opctl::agent {

class NetlinkDataplane : public OverlayDataplane {
 public:
  static absl::StatusOr<std::unique_ptr<NetlinkDataplane>> Open();

  absl::Status EnsureLink(const VxlanLinkSpec& spec) override;
  absl::StatusOr<std::vector<std::string>> ListLinks() override;
  absl::Status DeleteLink(const std::string& name) override;
  absl::StatusOr<OverlayEntries> ReadEntries(const std::string& link) override;
  absl::Status SetForwarding(const std::string& link, const std::string& mac, const std::string& remote) override;
  absl::Status RemoveForwarding(const std::string& link, const std::string& mac) override;
  absl::Status SetNeighbour(const std::string& link, const std::string& address, const std::string& mac) override;
  absl::Status RemoveNeighbour(const std::string& link, const std::string& address) override;

  // What the kernel says of one link (exposed for tests).
  struct Link {
    int index = 0;
    std::string kind;  // "vxlan", "bridge", ...
    uint32_t vni = 0;
    uint32_t local = 0;  // host byte order
    uint16_t port = 0;
    bool learning = true, proxy = false, up = false;
    int mtu = 0, master = 0;
  };
  absl::StatusOr<Link> GetLink(const std::string& name);

 private:
  explicit NetlinkDataplane(std::unique_ptr<NetlinkSocket> socket) : socket_(std::move(socket)) {}
  absl::Status CreateLink(const VxlanLinkSpec& spec);
  absl::Status SetLink(int index, int mtu, int master, const std::string& name);
  // One neighbour-table change (RTM_NEWNEIGH or RTM_DELNEIGH) on `link`: a bridge forwarding entry
  // (family AF_BRIDGE) or an IPv4 neighbour (AF_INET).
  absl::Status ChangeNeighbour(int type, int family, const std::string& link, const std::string& mac,
                               const std::string& address);

  std::unique_ptr<NetlinkSocket> socket_;
};

}  // namespace opctl::agent
