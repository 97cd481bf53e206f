#include "controller/controllers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include "common/conditions.h"
#include "common/object.h"
#include "controller/node_monitor.h"
#include "controller/reconcilers/desired_containers.h"
#include "controller/store/sqlite_store.h"
#include "tests/controller/service_controller_fixture.h"
#include "tests/controller/test_objects.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace opctl::controller {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(DesiredContainers, OrdinalsAddressesAndTemplateVolumes) {
  v1::Object object = testing::ServiceObject("redis-replica", 2, {"172.19.0.3", "172.19.0.4"});
  v1::VolumeTemplate* volume = object.mutable_service()->mutable_spec()->add_volume_templates();
  volume->set_name("data");
  volume->set_mount_path("/data");
  object.mutable_service()->mutable_metadata()->set_uid("uid-1");
  std::vector<v1::Container> containers = DesiredContainers(object.service());
  ASSERT_EQ(containers.size(), 2u);
  EXPECT_EQ(containers[1].metadata().name(), "redis-replica-1");
  EXPECT_EQ(containers[1].spec().network().ipv4_address(), "172.19.0.4");
  EXPECT_EQ(containers[1].spec().template_().volume_mounts(0).name(), "data-redis-replica-1");
  EXPECT_EQ(containers[1].metadata().owner_references(0).uid(), "uid-1");
  EXPECT_EQ(containers[1].metadata().labels().at(kServiceLabel), "redis-replica");
}

TEST_F(ServiceControllerTest, KeepsExactlyReplicasContainers) {
  v1::Object service = testing::ServiceObject("web", 3);
  v1::VolumeTemplate* volume = service.mutable_service()->mutable_spec()->add_volume_templates();
  volume->set_name("data");
  volume->set_mount_path("/data");
  Apply({service});
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_THAT(ContainerNames(), ElementsAre("web-0", "web-1", "web-2"));
  EXPECT_TRUE(registry_.Find("Volume", "data-web-2").has_value());

  service.mutable_service()->mutable_spec()->set_replicas(1);
  Apply({service});
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_THAT(ContainerNames(), ElementsAre("web-0"));
  EXPECT_TRUE(registry_.Find("Volume", "data-web-2").has_value()) << "scale-down keeps the replica's data";

  // A changed template reaches the container; a second pass writes nothing.
  service.mutable_service()->mutable_spec()->mutable_template_()->set_image("busybox:v2");
  Apply({service});
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(registry_.Get("Container", "web-0")->container().spec().template_().image(), "busybox:v2");
  int64_t revision = store_->Revision();
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(store_->Revision(), revision);
}

TEST_F(ServiceControllerTest, ATemplateChangeRollsOneReadyReplicaAtATimeHighestFirst) {
  v1::Object service = testing::ServiceObject("web", 3);
  Apply({service});
  ASSERT_TRUE(SyncService("web").ok());
  for (const char* name : {"web-0", "web-1", "web-2"}) MakeReady(name);

  service.mutable_service()->mutable_spec()->mutable_template_()->set_image("busybox:v2");
  Apply({service});
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(ImageOf("web-2"), "busybox:v2");
  EXPECT_EQ(ImageOf("web-1"), "busybox:test");
  // web-2 is not ready on its new spec yet: nothing else moves.
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(ImageOf("web-1"), "busybox:test");
  MakeReady("web-2");
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(ImageOf("web-1"), "busybox:v2");
  EXPECT_EQ(ImageOf("web-0"), "busybox:test");
  MakeReady("web-1");
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(ImageOf("web-0"), "busybox:v2");
}

TEST_F(ServiceControllerTest, SchedulesWhenANodeAppears) {
  ASSERT_TRUE(Follow().ok());
  Apply({testing::ServiceObject("web", 2)});
  ASSERT_TRUE(SyncService("web").ok());
  ASSERT_TRUE(Schedule().ok());
  v1::Container pending = registry_.Get("Container", "web-0")->container();
  EXPECT_EQ(pending.status().phase(), "Pending");
  EXPECT_THAT(pending.status().conditions(0).message(), HasSubstr("no node is registered"));

  AddNode(testing::ReadyNode("host-a", 1LL << 30, 2000));
  AddNode(testing::ReadyNode("host-b", 1LL << 30, 2000));
  ASSERT_TRUE(Schedule().ok());
  std::string first = registry_.Get("Container", "web-0")->container().spec().node_name();
  std::string second = registry_.Get("Container", "web-1")->container().spec().node_name();
  EXPECT_FALSE(first.empty());
  EXPECT_FALSE(second.empty());
  EXPECT_NE(first, second) << "replicas spread over nodes";
}

TEST_F(ServiceControllerTest, ASpanningNetworkGetsAddressesAVniAndItsEndpoints) {
  ASSERT_TRUE(Follow().ok());
  v1::Object network;
  network.mutable_network()->mutable_metadata()->set_name("net");
  network.mutable_network()->mutable_spec()->set_subnet("10.9.0.0/24");
  v1::Object fixed = testing::ServiceObject("db", 1, {"10.9.0.3"});
  v1::Object service = testing::ServiceObject("web", 2);  // its replicas get theirs from the controller
  service.mutable_service()->mutable_spec()->mutable_network()->set_name("net");
  Apply({network, fixed, service});
  v1::Node a = testing::ReadyNode("host-a", 1LL << 30, 2000), b = testing::ReadyNode("host-b", 1LL << 30, 2000);
  a.mutable_status()->set_overlay_address("10.231.0.11");
  b.mutable_status()->set_overlay_address("10.231.0.12");
  AddNode(a);
  AddNode(b);
  ASSERT_TRUE(SyncService("web").ok());
  ASSERT_TRUE(Schedule().ok());
  ASSERT_TRUE(SyncService("db").ok());
  ASSERT_TRUE(Schedule().ok());
  auto address_of = [&](const std::string& name) {
    return registry_.Get("Container", name)->container().spec().network().ipv4_address();
  };
  // .1 is the gateway, .3 db's (reserved before db's container exists).
  EXPECT_EQ(address_of("web-0"), "10.9.0.2");
  EXPECT_EQ(address_of("web-1"), "10.9.0.4");
  EXPECT_EQ(address_of("db-0"), "10.9.0.3");
  // A later pass of the Service keeps them (and rolls nothing).
  int64_t version = registry_.Get("Container", "web-1")->container().metadata().resource_version();
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(address_of("web-1"), "10.9.0.4");
  EXPECT_EQ(registry_.Get("Container", "web-1")->container().metadata().resource_version(), version);

  ASSERT_TRUE(controllers_.endpoints().Reconcile("net").ok());
  v1::NetworkStatus status = registry_.Get("Network", "net")->network().status();
  EXPECT_EQ(status.vni(), kFirstVni);
  ASSERT_EQ(status.endpoints_size(), 3);
  for (const v1::NetworkEndpoint& endpoint : status.endpoints()) {
    EXPECT_EQ(endpoint.node_address(), endpoint.node() == "host-a" ? "10.231.0.11" : "10.231.0.12");
    EXPECT_EQ(endpoint.address(), address_of(endpoint.container()));
  }
  EXPECT_EQ(ConditionStatus(status.conditions(), "Ready"), "True");

  // A node that cannot stretch it: the Network says which and why.
  v1::Object container = *registry_.Get("Container", "web-1");
  SetCondition(container.mutable_container()->mutable_status()->mutable_conditions(), "Ready", false,
               kReasonNetworkNotReady, "network net cannot span hosts from node host-a: UDP 4789 in use", clock_.Now());
  std::promise<absl::Status> written;
  registry_.UpdateStatus(container, 0, [&](absl::StatusOr<v1::Object> result) { written.set_value(result.status()); });
  ASSERT_TRUE(written.get_future().get().ok());
  ASSERT_TRUE(controllers_.endpoints().Reconcile("net").ok());
  status = registry_.Get("Network", "net")->network().status();
  EXPECT_EQ(status.vni(), kFirstVni) << "a Network keeps its VNI";
  EXPECT_EQ(ConditionStatus(status.conditions(), "Ready"), "False");
  EXPECT_THAT(status.conditions(0).message(),
              HasSubstr(absl::StrCat(container.container().spec().node_name(), ": network net cannot span hosts")));
}

TEST_F(ServiceControllerTest, ALostNodesStatelessReplicasMoveAndStatefulOnesStay) {
  ASSERT_TRUE(Follow().ok());
  v1::Node lost = testing::ReadyNode("host-a", 1LL << 30, 2000);
  AddNode(lost);
  v1::Object web = testing::ServiceObject("web", 1);
  v1::Object db = testing::ServiceObject("db", 1);
  v1::VolumeTemplate* volume = db.mutable_service()->mutable_spec()->add_volume_templates();
  volume->set_name("data");
  volume->set_mount_path("/data");
  Apply({web, db});
  ASSERT_TRUE(SyncService("web").ok());
  ASSERT_TRUE(SyncService("db").ok());
  ASSERT_TRUE(Schedule().ok());
  EXPECT_EQ(registry_.Get("Container", "web-0")->container().spec().binding_generation(), 1);

  // host-a falls silent; host-b is there to take what may move.
  MarkSilent("host-a", clock_.Now());
  AddNode(testing::ReadyNode("host-b", 1LL << 30, 2000));
  ASSERT_TRUE(Evacuate("host-a").ok());
  ASSERT_TRUE(Schedule().ok());
  // Silent for less than the settle time: host-a's own fence may still be removing web-0 there.
  EXPECT_EQ(registry_.Get("Container", "web-0")->container().spec().node_name(), "host-a");
  EXPECT_EQ(registry_.Get("Container", "db-0")->container().status().phase(), "Unknown");

  // Its fence guard reports the agent dead and web-0 removed: proof, so web-0 moves now.
  NodeMonitor monitor(registry_, clock_);
  ASSERT_TRUE(monitor.AgentGone("host-a", {"web-0"}).ok());
  v1::Object reported = *registry_.Get("Node", "host-a");
  const v1::Condition* ready = FindCondition(reported.node().status().conditions(), "Ready");
  ASSERT_NE(ready, nullptr);
  EXPECT_EQ(ready->reason(), kAgentGoneReason);
  EXPECT_THAT(ready->message(), HasSubstr("fence guard removed 1 movable container (web-0)"));
  EXPECT_TRUE(absl::IsNotFound(monitor.AgentGone("host-z", {})));
  ASSERT_TRUE(Evacuate("host-a").ok());
  ASSERT_TRUE(Schedule().ok());

  v1::Container moved = registry_.Get("Container", "web-0")->container();
  EXPECT_EQ(moved.spec().node_name(), "host-b");
  EXPECT_EQ(moved.spec().binding_generation(), 2) << "a new binding, so host-a's copy is stale";
  v1::Container stays = registry_.Get("Container", "db-0")->container();
  EXPECT_EQ(stays.spec().node_name(), "host-a");
  EXPECT_EQ(stays.status().phase(), "Unknown");
  EXPECT_THAT(FindCondition(stays.status().conditions(), "Scheduled")->message(), HasSubstr("where its volumes are"));
  // The Service's own pass keeps the binding and its generation.
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(registry_.Get("Container", "web-0")->container().spec().binding_generation(), 2);

  // Drain's step: a stateless container can be evicted, a stateful one says why not.
  std::promise<absl::StatusOr<v1::Object>> evicted, refused;
  registry_.Evict("web-0", [&](absl::StatusOr<v1::Object> result) { evicted.set_value(result); });
  registry_.Evict("db-0", [&](absl::StatusOr<v1::Object> result) { refused.set_value(result); });
  absl::StatusOr<v1::Object> evicting = evicted.get_future().get();
  ASSERT_TRUE(evicting.ok()) << evicting.status();
  // Bound still, until host-b has removed it: it never runs on two nodes at once.
  EXPECT_EQ(evicting->container().spec().node_name(), "host-b");
  EXPECT_TRUE(evicting->container().spec().evicting());
  ASSERT_TRUE(Evacuate("host-b").ok());
  EXPECT_EQ(registry_.Get("Container", "web-0")->container().spec().node_name(), "host-b");
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_TRUE(registry_.Get("Container", "web-0")->container().spec().evicting()) << "the Service keeps the eviction";
  ReportPhase("web-0", "Removed");  // as host-b's agent reports it
  ASSERT_TRUE(Evacuate("host-b").ok());
  v1::Container unbound = registry_.Get("Container", "web-0")->container();
  EXPECT_EQ(unbound.spec().node_name(), "");
  EXPECT_FALSE(unbound.spec().evicting());
  absl::StatusOr<v1::Object> stayed = refused.get_future().get();
  EXPECT_TRUE(absl::IsFailedPrecondition(stayed.status()));
  EXPECT_THAT(std::string(stayed.status().message()), HasSubstr("stays on node host-a, where its volumes are"));
}

TEST_F(ServiceControllerTest, ASilentNodesReplicasMoveOnceTheSettleTimeHasPassed) {
  ASSERT_TRUE(Follow().ok());
  AddNode(testing::ReadyNode("host-a", 1LL << 30, 2000));
  Apply({testing::ServiceObject("web", 1)});
  ASSERT_TRUE(SyncService("web").ok());
  ASSERT_TRUE(Schedule().ok());
  // NotReady for longer than the settle time (1 s by default).
  MarkSilent("host-a", clock_.Now());
  clock_.Advance(absl::Milliseconds(1100));
  AddNode(testing::ReadyNode("host-b", 1LL << 30, 2000));
  ASSERT_TRUE(Evacuate("host-a").ok());
  ASSERT_TRUE(Schedule().ok());
  EXPECT_EQ(registry_.Get("Container", "web-0")->container().spec().node_name(), "host-b");
}

TEST_F(ServiceControllerTest, ReadinessFlowsIntoServiceStatus) {
  AddNode(testing::ReadyNode("host-a", 1LL << 30, 2000));
  ASSERT_TRUE(Start().ok());
  Apply({testing::ServiceObject("web", 1)});
  ASSERT_TRUE(opctl::testing::WaitFor(
      [&] {
        std::optional<v1::Object> container = registry_.Find("Container", "web-0");
        return container && container->container().spec().node_name() == "host-a";
      },
      absl::Seconds(10)));
  MakeReady("web-0");
  EXPECT_TRUE(opctl::testing::WaitFor(
      [&] { return registry_.Get("Service", "web")->service().status().ready_replicas() == 1; }, absl::Seconds(10)));
  const v1::ServiceStatus status = registry_.Get("Service", "web")->service().status();
  EXPECT_EQ(status.conditions(0).type(), "Available");
  EXPECT_EQ(status.conditions(0).status(), "True");
}

}  // namespace
}  // namespace opctl::controller
