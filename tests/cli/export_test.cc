// opctl export: compose, stack and Kubernetes files from the project's manifests, and the round trip
// through opctl convert. The real tools' checks (docker-compose up, docker stack deploy, the
// Kubernetes schemas) are in tests/e2e/migrate_test.cc and tests/migrate/.
#include "cli/migrate/export.h"

#include <gmock/gmock.h>
#include <google/protobuf/util/message_differencer.h>
#include <gtest/gtest.h>

#include "cli/manifest.h"
#include "cli/migrate/compose_import.h"
#include "cli/migrate/yaml_tree.h"
#include "common/object.h"
#include "common/quantity.h"

namespace opctl::cli {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

std::vector<v1::Object> Manifest(const std::string& name) {
  ParsedManifests parsed = LoadManifests({std::string(OPCTL_SOURCE_DIR) + "/manifests/" + name});
  EXPECT_THAT(parsed.errors, IsEmpty());
  std::vector<v1::Object> objects;
  for (const ManifestDocument& document : parsed.documents) objects.push_back(document.object);
  return objects;
}

// What opctl does with an unset field, written out, and quantities in one unit: two objects that
// run the same containers compare equal.
v1::Object Canonical(v1::Object object) {
  if (object.has_network() && object.network().spec().driver().empty())
    object.mutable_network()->mutable_spec()->set_driver("bridge");
  if (object.has_volume() && object.volume().spec().driver().empty())
    object.mutable_volume()->mutable_spec()->set_driver("local");
  if (!object.has_service()) return object;
  v1::ContainerTemplate& container = *object.mutable_service()->mutable_spec()->mutable_template_();
  v1::Resources& resources = *container.mutable_resources();
  for (std::string* memory : {resources.mutable_memory_limit(), resources.mutable_memory_reservation()}) {
    if (!memory->empty()) *memory = std::to_string(ParseMemoryBytes(*memory).value_or(-1));
  }
  if (!resources.cpus().empty()) resources.set_cpus(std::to_string(ParseMilliCpus(resources.cpus()).value_or(-1)));
  if (resources.pids_limit() == 0) resources.set_pids_limit(4096);
  if (container.restart_policy().empty()) container.set_restart_policy("unless-stopped");
  if (container.logs().max_size().empty()) container.mutable_logs()->set_max_size("10m");
  if (container.logs().max_files() == 0) container.mutable_logs()->set_max_files(3);
  for (v1::PortMapping& port : *container.mutable_ports()) {
    if (port.host_port() == port.container_port()) port.set_host_port(0);
    if (port.host_ip().empty()) port.set_host_ip("127.0.0.1");
    if (port.protocol() == "tcp") port.clear_protocol();
  }
  return object;
}

Exported Export(const std::vector<v1::Object>& objects, ExportTarget target) {
  Exported exported = ExportObjects(objects, target, "");
  EXPECT_THAT(exported.errors, IsEmpty());
  return exported;
}

class RoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(RoundTrip, ConvertOfTheComposeExportGivesTheManifestsBack) {
  std::vector<v1::Object> originals = Manifest(GetParam());
  Exported exported = Export(originals, ExportTarget::kCompose);
  ASSERT_EQ(exported.files.size(), 1u);
  ConvertedCompose converted = ConvertCompose({{exported.files[0].name, exported.files[0].text}}, {});
  ASSERT_THAT(converted.errors, IsEmpty()) << exported.files[0].text;
  ASSERT_EQ(converted.objects.size(), originals.size()) << exported.files[0].text;
  std::map<std::string, const v1::Object*> by_name;
  for (const v1::Object& object : converted.objects) by_name[DisplayName(object)] = &object;
  for (const v1::Object& original : originals) {
    ASSERT_TRUE(by_name.count(DisplayName(original))) << DisplayName(original) << " missing";
    std::string differences;
    google::protobuf::util::MessageDifferencer differ;
    differ.ReportDifferencesToString(&differences);
    EXPECT_TRUE(differ.Compare(Canonical(original), Canonical(*by_name[DisplayName(original)])))
        << DisplayName(original) << ":\n"
        << differences;
  }
}

INSTANTIATE_TEST_SUITE_P(ProjectManifests, RoundTrip,
                         ::testing::Values("redis.yaml", "monitoring.yaml", "redis-ha.yaml"), [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

TEST(Export, TheSameObjectsGiveTheSameBytes) {
  for (ExportTarget target : {ExportTarget::kCompose, ExportTarget::kSwarm, ExportTarget::kKubernetes}) {
    // Read twice: each parse builds its protobuf maps anew, whose iteration order is not fixed.
    std::string first = Export(Manifest("redis.yaml"), target).files.at(0).text;
    std::string second = Export(Manifest("redis.yaml"), target).files.at(0).text;
    EXPECT_EQ(first, second);
  }
}

TEST(Export, ComposeKeepsFixedAddressesAndWritesOneServicePerReplica) {
  Exported exported = Export(Manifest("redis.yaml"), ExportTarget::kCompose);
  const std::string& text = exported.files[0].text;
  EXPECT_THAT(text, HasSubstr("version: \"2.4\""));
  EXPECT_THAT(text, HasSubstr("  redis-replica-1:\n"));
  EXPECT_THAT(text, HasSubstr("ipv4_address: 172.19.0.4\n"));
  EXPECT_THAT(text, HasSubstr("- data-redis-replica-1:/data\n"));
  EXPECT_THAT(text, HasSubstr("gateway: 172.19.0.1\n"));
  EXPECT_THAT(exported.warnings, Contains(HasSubstr("redis: service/redis-master template.lifecycle.preStop: ")));
  EXPECT_THAT(exported.warnings, Contains(HasSubstr("redis: volume/redis_master_data spec.backup: ")));
}

TEST(Export, SwarmNamesStandForAddressesAndSaysWhatItCannotHold) {
  std::vector<v1::Object> objects = Manifest("redis.yaml");
  for (v1::Object& object : Manifest("monitoring.yaml")) objects.push_back(object);
  Exported exported = Export(objects, ExportTarget::kSwarm);
  ASSERT_EQ(exported.files.size(), 2u);  // monitoring, redis
  const std::string& redis = exported.files[1].text;
  EXPECT_THAT(redis, HasSubstr("version: \"3.8\""));
  EXPECT_THAT(redis, HasSubstr("driver: overlay\n"));
  EXPECT_THAT(redis,
              HasSubstr("REDIS_SENTINELS: redis-sentinel-0:26379 redis-sentinel-1:26379 redis-sentinel-2:26379"));
  EXPECT_THAT(redis, Not(HasSubstr("ipv4_address")));
  // The exporter in the monitoring stack reaches the master under the name Swarm gives it there.
  EXPECT_THAT(exported.files[0].text, HasSubstr("REDIS_ADDR: redis://redis_redis-master-0:6379"));
  EXPECT_THAT(exported.warnings,
              Contains(HasSubstr("redis: service/redis-sentinel spec.network redis-net addresses: left out")));
  EXPECT_THAT(exported.warnings, Contains(HasSubstr("redis: network/redis-net spec.gateway: ")));
}

TEST(Export, KubernetesHasStatefulSetsHeadlessServicesClaimsAndDnsNames) {
  Exported exported = Export(Manifest("redis.yaml"), ExportTarget::kKubernetes);
  const std::string& text = exported.files[0].text;
  EXPECT_THAT(text, HasSubstr("kind: Namespace\nmetadata:\n  name: redis\n"));
  EXPECT_THAT(text, HasSubstr("kind: StatefulSet"));
  EXPECT_THAT(text, HasSubstr("clusterIP: None"));
  EXPECT_THAT(text, HasSubstr("volumeClaimTemplates:\n  - metadata:\n      name: data\n"));
  EXPECT_THAT(text, HasSubstr("claimName: redis-master-data"));
  EXPECT_THAT(text, HasSubstr("value: redis-master-0.redis-master.redis.svc.cluster.local\n"));
  EXPECT_THAT(text, HasSubstr("readinessProbe:"));
  EXPECT_THAT(text, HasSubstr("livenessProbe:"));
  EXPECT_THAT(text, HasSubstr("runAsNonRoot: true"));
  EXPECT_THAT(text, HasSubstr("preStop:"));
  EXPECT_THAT(text, HasSubstr("cpu: 500m"));
  EXPECT_THAT(exported.warnings, Contains(HasSubstr("redis: network/redis-net spec: not written")));
  EXPECT_THAT(exported.warnings, Contains(HasSubstr("redis: service/redis-master env.REDIS_MASTER_HOST: fixed")));
}

TEST(Export, TheChangeCauseApplyRecordedIsNotPartOfTheStack) {
  std::vector<v1::Object> objects = Manifest("redis.yaml");
  std::string plain = Export(objects, ExportTarget::kKubernetes).files.at(0).text;
  for (v1::Object& object : objects) {
    if (object.has_service())
      (*object.mutable_service()->mutable_metadata()->mutable_annotations())["opctl.io/change-cause"] = "opctl apply";
  }
  for (ExportTarget target : {ExportTarget::kCompose, ExportTarget::kSwarm, ExportTarget::kKubernetes})
    EXPECT_THAT(Export(objects, target).files.at(0).text, Not(HasSubstr("change-cause")));
  EXPECT_EQ(Export(objects, ExportTarget::kKubernetes).files.at(0).text, plain);
}

TEST(Export, AStackThatIsNotThereIsAnErrorNamingTheOnesThatAre) {
  Exported exported = ExportObjects(Manifest("redis.yaml"), ExportTarget::kCompose, "shop");
  EXPECT_THAT(exported.errors, Contains(HasSubstr("no stack \"shop\" in what was given (stacks: redis)")));
  EXPECT_THAT(ExportObjects({}, ExportTarget::kCompose, "").errors, Contains(HasSubstr("nothing to export")));
  EXPECT_FALSE(ParseExportTarget("helm").ok());
}

TEST(YamlTree, QuotesWhatWouldReadAsSomethingElse) {
  YamlTree tree;
  tree["version"] = "2.4";
  tree["flag"] = "yes";
  tree["address"] = "172.19.0.2";
  tree["time"] = "1:30";
  tree["empty"] = "";
  tree["count"] = 3;
  tree["list"].Push("a: b");
  tree["map"] = YamlTree::Map();
  EXPECT_EQ(
      tree.ToYaml(),
      "version: \"2.4\"\nflag: \"yes\"\naddress: 172.19.0.2\ntime: \"1:30\"\nempty: \"\"\ncount: 3\nlist:\n- \"a: "
      "b\"\nmap: {}\n");
}

}  // namespace
}  // namespace opctl::cli
