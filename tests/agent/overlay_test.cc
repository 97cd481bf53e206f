// The overlay's logic against a recording dataplane, and the kernel's side for real: links and
// entries made over netlink in a network namespace of the test's own (a thread that unshared it),
// read back through the kernel, so nothing touches this machine's own namespace.
#include "agent/overlay/overlay.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <future>
#include <thread>

#include "agent/overlay/netlink_dataplane.h"
#include "tests/support/process.h"

namespace opctl::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RecordingDataplane : public OverlayDataplane {
 public:
  absl::Status EnsureLink(const VxlanLinkSpec& spec) override {
    links[spec.name] = spec;
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::string>> ListLinks() override {
    std::vector<std::string> names;
    for (const auto& [name, spec] : links) names.push_back(name);
    return names;
  }
  absl::Status DeleteLink(const std::string& name) override {
    links.erase(name);
    return absl::OkStatus();
  }
  absl::StatusOr<OverlayEntries> ReadEntries(const std::string& link) override { return entries[link]; }
  absl::Status SetForwarding(const std::string& link, const std::string& mac, const std::string& remote) override {
    ++changes;
    entries[link].forwarding[mac] = remote;
    return absl::OkStatus();
  }
  absl::Status RemoveForwarding(const std::string& link, const std::string& mac) override {
    ++changes;
    entries[link].forwarding.erase(mac);
    return absl::OkStatus();
  }
  absl::Status SetNeighbour(const std::string& link, const std::string& address, const std::string& mac) override {
    ++changes;
    entries[link].neighbours[address] = mac;
    return absl::OkStatus();
  }
  absl::Status RemoveNeighbour(const std::string& link, const std::string& address) override {
    ++changes;
    entries[link].neighbours.erase(address);
    return absl::OkStatus();
  }

  std::map<std::string, VxlanLinkSpec> links;
  std::map<std::string, OverlayEntries> entries;
  int changes = 0;
};

v1::Network Spanning(int vni, std::vector<std::array<std::string, 3>> endpoints) {
  v1::Network network;
  network.mutable_metadata()->set_name("redis-net");
  network.mutable_status()->set_vni(vni);
  for (const auto& [node, address, node_address] : endpoints) {
    v1::NetworkEndpoint* endpoint = network.mutable_status()->add_endpoints();
    endpoint->set_node(node);
    endpoint->set_address(address);
    endpoint->set_node_address(node_address);
  }
  return network;
}

TEST(Overlay, ProgramsOneEntryPairPerRemoteContainerAndFollowsChanges) {
  RecordingDataplane dataplane;
  Overlay overlay(dataplane, "host1", "10.231.0.11");
  v1::Network network = Spanning(4096, {{"host1", "172.19.0.2", "10.231.0.11"},
                                        {"host2", "172.19.0.3", "10.231.0.12"},
                                        {"host3", "172.19.0.5", ""}});  // no overlay address: unreachable
  ASSERT_TRUE(overlay.Reconcile(network, "br-0123456789ab", 1450).ok());
  const VxlanLinkSpec& link = dataplane.links.at("opx-4096");
  EXPECT_EQ(link.vni, 4096u);
  EXPECT_EQ(link.local_address, "10.231.0.11");
  EXPECT_EQ(link.bridge, "br-0123456789ab");
  EXPECT_EQ(link.mtu, 1450);
  OverlayEntries want;
  want.forwarding = {{"02:42:ac:13:00:03", "10.231.0.12"}};
  want.neighbours = {{"172.19.0.3", "02:42:ac:13:00:03"}};
  EXPECT_EQ(dataplane.entries["opx-4096"], want);

  // Nothing changed: nothing is written.
  int before = dataplane.changes;
  ASSERT_TRUE(overlay.Reconcile(network, "br-0123456789ab", 1450).ok());
  EXPECT_EQ(dataplane.changes, before);

  // The container moved to host3 (now with an address); a new one came on host2.
  network = Spanning(4096, {{"host3", "172.19.0.3", "10.231.0.13"}, {"host2", "172.19.0.9", "10.231.0.12"}});
  ASSERT_TRUE(overlay.Reconcile(network, "br-0123456789ab", 1450).ok());
  want.forwarding = {{"02:42:ac:13:00:03", "10.231.0.13"}, {"02:42:ac:13:00:09", "10.231.0.12"}};
  want.neighbours = {{"172.19.0.3", "02:42:ac:13:00:03"}, {"172.19.0.9", "02:42:ac:13:00:09"}};
  EXPECT_EQ(dataplane.entries["opx-4096"], want);

  // Until the controller gives the Network its VNI there is nothing to make.
  RecordingDataplane fresh;
  ASSERT_TRUE(Overlay(fresh, "host1", "10.231.0.11").Reconcile(Spanning(0, {}), "br-x", 1450).ok());
  EXPECT_TRUE(fresh.links.empty());

  ASSERT_TRUE(overlay.CollectLinks({}).ok());
  EXPECT_TRUE(dataplane.links.empty());
}

// Runs `body` on a thread of its own in a new, empty network namespace (gone with the thread).
template <typename Body>
void InPrivateNetworkNamespace(Body body) {
  std::thread thread([&] {
    ASSERT_EQ(unshare(CLONE_NEWNET), 0) << "unshare(CLONE_NEWNET) needs root: " << std::strerror(errno);
    body();
  });
  thread.join();
}

TEST(NetlinkDataplane, MakesAndRepairsALinkAndItsEntriesInTheKernel) {
  InPrivateNetworkNamespace([] {
    // The namespace's own loopback and a bridge standing for Docker's, made with the kernel's tools.
    ASSERT_EQ(std::system("ip link set lo up && ip link add br-test type bridge && ip link set br-test up && "
                          "ip addr add 10.77.0.1/32 dev lo"),
              0);
    absl::StatusOr<std::unique_ptr<NetlinkDataplane>> opened = NetlinkDataplane::Open();
    ASSERT_TRUE(opened.ok()) << opened.status();
    NetlinkDataplane& dataplane = **opened;
    VxlanLinkSpec spec{"opx-4242", 4242, "10.77.0.1", 1450, "br-test"};
    ASSERT_TRUE(dataplane.EnsureLink(spec).ok());
    absl::StatusOr<NetlinkDataplane::Link> link = dataplane.GetLink("opx-4242");
    ASSERT_TRUE(link.ok()) << link.status();
    absl::StatusOr<NetlinkDataplane::Link> bridge = dataplane.GetLink("br-test");
    EXPECT_EQ(link->kind, "vxlan");
    EXPECT_EQ(link->vni, 4242u);
    EXPECT_EQ(link->port, kVxlanPort);
    EXPECT_FALSE(link->learning);
    EXPECT_TRUE(link->proxy);
    EXPECT_TRUE(link->up);
    EXPECT_EQ(link->mtu, 1450);
    EXPECT_EQ(link->master, bridge->index);

    ASSERT_TRUE(dataplane.SetForwarding("opx-4242", "02:42:ac:13:00:03", "10.77.0.2").ok());
    ASSERT_TRUE(dataplane.SetForwarding("opx-4242", "02:42:ac:13:00:03", "10.77.0.3").ok());  // moved
    ASSERT_TRUE(dataplane.SetNeighbour("opx-4242", "172.19.0.3", "02:42:ac:13:00:03").ok());
    absl::StatusOr<OverlayEntries> entries = dataplane.ReadEntries("opx-4242");
    ASSERT_TRUE(entries.ok()) << entries.status();
    OverlayEntries want;
    want.forwarding = {{"02:42:ac:13:00:03", "10.77.0.3"}};
    want.neighbours = {{"172.19.0.3", "02:42:ac:13:00:03"}};
    EXPECT_EQ(*entries, want);
    ASSERT_TRUE(dataplane.RemoveForwarding("opx-4242", "02:42:ac:13:00:03").ok());
    ASSERT_TRUE(dataplane.RemoveNeighbour("opx-4242", "172.19.0.3").ok());
    ASSERT_TRUE(dataplane.RemoveNeighbour("opx-4242", "172.19.0.3").ok());  // gone already: fine
    EXPECT_EQ(*dataplane.ReadEntries("opx-4242"), OverlayEntries{});

    // Docker made its bridge again: the link is a port of the new one after the next pass.
    ASSERT_EQ(std::system("ip link del br-test && ip link add br-test type bridge && ip link set br-test up"), 0);
    ASSERT_TRUE(dataplane.EnsureLink(spec).ok());
    EXPECT_EQ(dataplane.GetLink("opx-4242")->master, dataplane.GetLink("br-test")->index);
    // Made by hand with another identifier: made again as it should be.
    ASSERT_EQ(std::system("ip link del opx-4242 && ip link add opx-4242 type vxlan id 7 dstport 4789 local 10.77.0.1"),
              0);
    ASSERT_TRUE(dataplane.EnsureLink(spec).ok());
    EXPECT_EQ(dataplane.GetLink("opx-4242")->vni, 4242u);
    EXPECT_THAT(*dataplane.ListLinks(), ElementsAre("opx-4242"));

    // A second link on the same identifier and port is the kernel's to refuse, and says so.
    absl::Status clash = dataplane.EnsureLink({"opx-4243", 4242, "10.77.0.1", 1450, "br-test"});
    EXPECT_FALSE(clash.ok());
    EXPECT_THAT(std::string(clash.message()), HasSubstr("creating VXLAN link opx-4243 (VNI 4242"));
    absl::Status no_bridge = dataplane.EnsureLink({"opx-9", 9, "10.77.0.1", 1450, "br-gone"});
    EXPECT_THAT(std::string(no_bridge.message()), HasSubstr("Docker's bridge br-gone is not on this host"));
    ASSERT_TRUE(dataplane.DeleteLink("opx-4242").ok());
    ASSERT_TRUE(dataplane.DeleteLink("opx-4242").ok());
    EXPECT_TRUE(dataplane.ListLinks()->empty());

    // Someone else holds UDP 4789: the link cannot come up, and the error says why.
    int holder = socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(kVxlanPort);
    ASSERT_EQ(bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0) << std::strerror(errno);
    absl::Status in_use = dataplane.EnsureLink(spec);
    close(holder);
    EXPECT_THAT(std::string(in_use.message()),
                HasSubstr("bringing link opx-4242 up (the kernel's VXLAN socket, UDP 4789): Address already in use"));
    ASSERT_TRUE(dataplane.EnsureLink(spec).ok());  // free again: repaired on the next pass
    EXPECT_TRUE(dataplane.GetLink("opx-4242")->up);
  });
}

}  // namespace
}  // namespace opctl::agent
