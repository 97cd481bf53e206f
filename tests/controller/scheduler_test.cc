#include "controller/scheduler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tests/controller/test_objects.h"

namespace opctl::controller {
namespace {

using ::testing::HasSubstr;
using testing::ReadyNode;

constexpr int64_t kGi = 1LL << 30;

v1::Container Replica(const std::string& service, int ordinal, const std::string& reservation = "",
                      const std::string& node = "") {
  v1::Container container;
  container.mutable_metadata()->set_name(service + "-" + std::to_string(ordinal));
  container.mutable_spec()->set_service(service);
  container.mutable_spec()->set_node_name(node);
  container.mutable_spec()->mutable_template_()->mutable_resources()->set_memory_reservation(reservation);
  return container;
}

TEST(Scheduler, SpreadsReplicasOfOneService) {
  std::vector<v1::Node> nodes = {ReadyNode("a", 8 * kGi, 2000), ReadyNode("b", 4 * kGi, 2000)};
  std::vector<v1::Container> bound = {Replica("web", 0, "", "a")};
  // "a" has more free memory, but already runs a replica of web.
  EXPECT_EQ(*ChooseNode(Replica("web", 1), nodes, LoadsOf(bound)), "b");
  EXPECT_EQ(*ChooseNode(Replica("db", 0), nodes, LoadsOf(bound)), "a");  // most free memory
}

TEST(Scheduler, MaxReplicasPerNodeIsAHardLimit) {
  std::vector<v1::Node> nodes = {ReadyNode("a", 8 * kGi, 2000), ReadyNode("b", 8 * kGi, 2000)};
  v1::Container third = Replica("sentinel", 2);
  third.mutable_spec()->mutable_placement()->set_max_replicas_per_node(1);
  std::vector<v1::Container> bound = {Replica("sentinel", 0, "", "a"), Replica("sentinel", 1, "", "b")};
  for (v1::Container& replica : bound) *replica.mutable_spec()->mutable_placement() = third.spec().placement();
  absl::StatusOr<std::string> none = ChooseNode(third, nodes, LoadsOf(bound));
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("0/2 nodes can run it: 2 at maxReplicasPerNode (1)"));
  third.mutable_spec()->mutable_placement()->set_max_replicas_per_node(2);
  EXPECT_TRUE(ChooseNode(third, nodes, LoadsOf(bound)).ok());
}

TEST(Scheduler, ApartFromKeepsServicesOffEachOthersNodesBothWays) {
  std::vector<v1::Node> nodes = {ReadyNode("a", 8 * kGi, 2000), ReadyNode("b", kGi, 2000)};
  v1::Container master = Replica("redis-master", 0, "", "a");
  master.mutable_spec()->mutable_placement()->add_apart_from("redis-replica");
  // The replica asks nothing, but the master already on "a" keeps it away, though "a" has more room.
  EXPECT_EQ(*ChooseNode(Replica("redis-replica", 0), nodes, LoadsOf({master})), "b");
  // And a master asking to be apart is kept off the replica's node.
  v1::Container replica = Replica("redis-replica", 0, "", "b");
  master.mutable_spec()->set_node_name("");
  nodes[0].mutable_spec()->set_unschedulable(true);
  absl::StatusOr<std::string> none = ChooseNode(master, nodes, LoadsOf({replica}));
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("1 running service/redis-replica (apartFrom)"));
  nodes[0].mutable_spec()->set_unschedulable(false);
  replica.mutable_spec()->mutable_placement()->add_apart_from("redis-master");
  master.mutable_spec()->clear_placement();
  EXPECT_EQ(*ChooseNode(master, nodes, LoadsOf({replica})), "a");
  nodes[0].mutable_spec()->set_unschedulable(true);
  EXPECT_THAT(std::string(ChooseNode(master, nodes, LoadsOf({replica})).status().message()),
              HasSubstr("1 running a service kept apart from service/redis-master"));
}

TEST(Scheduler, RespectsSelectorsReadinessAndCordons) {
  std::vector<v1::Node> nodes = {ReadyNode("a", kGi, 2000, {{"disk", "hdd"}}),
                                 ReadyNode("b", kGi, 2000, {{"disk", "ssd"}})};
  v1::Container container = Replica("db", 0);
  (*container.mutable_spec()->mutable_node_selector())["disk"] = "ssd";
  EXPECT_EQ(*ChooseNode(container, nodes, {}), "b");
  nodes[1].mutable_spec()->set_unschedulable(true);
  absl::StatusOr<std::string> none = ChooseNode(container, nodes, {});
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()),
              HasSubstr("0/2 nodes can run it: 1 cordoned, 1 not matching the node selector"));
  nodes[1].mutable_status()->mutable_conditions(0)->set_status("False");
  EXPECT_THAT(std::string(ChooseNode(container, nodes, {}).status().message()), HasSubstr("1 not ready"));
}

TEST(Scheduler, MemoryReservationsAddUp) {
  std::vector<v1::Node> nodes = {ReadyNode("a", 2 * kGi, 2000)};
  std::vector<v1::Container> bound = {Replica("x", 0, "1536m", "a")};
  absl::StatusOr<std::string> none = ChooseNode(Replica("y", 0, "1g"), nodes, LoadsOf(bound));
  ASSERT_FALSE(none.ok());
  EXPECT_THAT(std::string(none.status().message()), HasSubstr("1 short of memory (needs 1Gi)"));
  EXPECT_EQ(*ChooseNode(Replica("y", 0, "512m"), nodes, LoadsOf(bound)), "a");
}

TEST(Scheduler, CpuLimitMustFitTheNode) {
  std::vector<v1::Node> nodes = {ReadyNode("a", kGi, 2000)};
  v1::Container container = Replica("x", 0);
  container.mutable_spec()->mutable_template_()->mutable_resources()->set_cpus("4");
  EXPECT_THAT(std::string(ChooseNode(container, nodes, {}).status().message()), HasSubstr("fewer CPUs than its limit"));
}

TEST(Scheduler, NoNodesSaysToStartAnAgent) {
  EXPECT_THAT(std::string(ChooseNode(Replica("x", 0), {}, {}).status().message()), HasSubstr("start opctl-agent"));
}

}  // namespace
}  // namespace opctl::controller
