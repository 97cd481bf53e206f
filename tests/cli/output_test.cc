#include "cli/output.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cli/manifest.h"
#include "common/clock.h"

namespace opctl::cli {
namespace {

using ::testing::HasSubstr;

v1::Object Container() {
  v1::Object object;
  v1::Container* container = object.mutable_container();
  container->set_api_version("opctl.io/v1");
  container->set_kind("Container");
  container->mutable_metadata()->set_name("redis-master-0");
  container->mutable_metadata()->set_stack("redis");
  container->mutable_metadata()->set_creation_timestamp(FormatTimestamp(absl::FromUnixSeconds(1000)));
  container->mutable_metadata()->set_resource_version(42);
  container->mutable_spec()->set_service("redis-master");
  container->mutable_spec()->set_node_name("host-a");
  container->mutable_spec()->mutable_network()->set_ipv4_address("172.19.0.2");
  container->mutable_spec()->mutable_template_()->mutable_resources()->set_cpus("2");
  container->mutable_status()->set_phase("Running");
  container->mutable_status()->set_health("healthy");
  container->mutable_status()->set_restart_count(1);
  return object;
}

TEST(Output, TablesLikeKubectl) {
  std::string table = ToTable("Container", {Container()}, true, absl::FromUnixSeconds(1000 + 300));
  EXPECT_THAT(table, HasSubstr("NAME             STACK   SERVICE        PHASE     HEALTH    RESTARTS   NODE     IP"));
  EXPECT_THAT(
      table,
      HasSubstr("redis-master-0   redis   redis-master   Running   healthy   1          host-a   172.19.0.2   5m"));
}

TEST(Output, ANetworkSaysHowManyNodesItSpans) {
  v1::Object object;
  v1::Network* network = object.mutable_network();
  network->mutable_metadata()->set_name("redis-net");
  network->mutable_metadata()->set_creation_timestamp(FormatTimestamp(absl::FromUnixSeconds(1000)));
  network->mutable_spec()->set_subnet("172.19.0.0/16");
  network->mutable_status()->set_vni(4096);
  for (const char* node : {"host1", "host2", "host2"}) network->mutable_status()->add_endpoints()->set_node(node);
  std::string table = ToTable("Network", {object}, true, absl::FromUnixSeconds(1000 + 60));
  EXPECT_THAT(table, HasSubstr("NODES   VNI    READY"));
  EXPECT_THAT(table, HasSubstr("false      2       4096   -"));
}

TEST(Output, YamlRoundTripsThroughTheManifestParser) {
  std::string yaml = ToYaml(Container());
  EXPECT_THAT(yaml, HasSubstr("cpus: \"2\""));  // quoted: a string that looks like a number
  ParsedManifests parsed = ParseManifests(yaml, "out.yaml");
  ASSERT_THAT(parsed.errors, ::testing::IsEmpty());
  EXPECT_EQ(parsed.documents[0].object.container().DebugString(), Container().container().DebugString());
}

TEST(Output, JsonListHasKubectlShape) {
  std::string json = ToJsonList({Container(), Container()});
  EXPECT_THAT(json, HasSubstr("\"kind\": \"List\""));
  EXPECT_THAT(json, HasSubstr("\"items\": ["));
  EXPECT_THAT(ToJson(Container()), HasSubstr("\"ipv4Address\": \"172.19.0.2\""));
}

}  // namespace
}  // namespace opctl::cli
