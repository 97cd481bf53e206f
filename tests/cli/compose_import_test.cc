#include "cli/migrate/compose_import.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "cli/migrate/compose_source.h"
#include "common/object.h"
#include "common/validation.h"

namespace opctl::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

ConvertedCompose Convert(const std::string& text, ComposeOptions options = {}) {
  if (options.stack.empty()) options.stack = "shop";
  return ConvertCompose({{"compose.yml", text}}, options);
}

const v1::Service* FindService(const ConvertedCompose& converted, const std::string& name) {
  for (const v1::Object& object : converted.objects) {
    if (object.has_service() && object.service().metadata().name() == name) return &object.service();
  }
  return nullptr;
}

TEST(ComposeImport, TheSeedsRedisStackBecomesValidObjectsWithItsAddressesAndLimits) {
  std::ifstream in(std::string(OPCTL_SOURCE_DIR) + "/tests/data/compose/seed/docker-compose.yml");
  std::stringstream text;
  text << in.rdbuf();
  ConvertedCompose converted = ConvertCompose({{"seed/docker-compose.yml", text.str()}}, {.stack = "redis"});
  ASSERT_THAT(converted.errors, IsEmpty());
  ASSERT_EQ(converted.objects.size(), 7u);  // a Network, three Volumes, three Services
  EXPECT_EQ(converted.objects[0].network().spec().subnet(), "172.19.0.0/16");
  const v1::Service* master = FindService(converted, "redis-master");
  ASSERT_NE(master, nullptr);
  EXPECT_EQ(master->metadata().stack(), "redis");
  EXPECT_THAT(master->spec().network().addresses(), ElementsAre("172.19.0.2"));
  EXPECT_EQ(master->spec().template_().image(), "opctl/redis-master:7.0");
  EXPECT_EQ(master->spec().template_().resources().memory_limit(), "2g");
  EXPECT_EQ(master->spec().template_().resources().cpus(), "2");
  EXPECT_EQ(master->spec().template_().healthcheck().start_period(), "10s");
  EXPECT_EQ(master->spec().template_().volume_mounts(0).name(), "redis_master_data");
  for (const v1::Object& object : converted.objects) EXPECT_THAT(ValidateObject(object, 0), IsEmpty());
  // Each build: is reported with how to build the image the manifest names.
  ASSERT_EQ(converted.warnings.size(), 3u);
  EXPECT_THAT(converted.warnings[0], HasSubstr("seed/docker-compose.yml:8: service/redis-master build"));
  EXPECT_THAT(converted.warnings[0], HasSubstr("docker build -t opctl/redis-master:7.0 -f "));
}

TEST(ComposeImport, EveryMappedFieldLandsInTheService) {
  ConvertedCompose converted = Convert(R"(services:
  web:
    image: nginx:1
    entrypoint: /bin/sh -c
    command: ["echo 'a b'", done]
    environment: [A=1, B=two words]
    user: "1000:1000"
    working_dir: /srv
    ports: ["127.0.0.1:8080:80", "9090:90/udp", {target: 443, published: 8443, host_ip: 0.0.0.0}]
    volumes: ["data:/data:ro", "./conf:/etc/conf", {type: volume, source: data, target: /more}]
    deploy:
      replicas: 3
      resources: {limits: {memory: 512m, cpus: "0.5", pids: 100}, reservations: {memory: 256m}}
      restart_policy: {condition: any}
      placement: {constraints: [node.labels.disk == ssd], max_replicas_per_node: 1}
      labels: {tier: front}
    labels: [app=web]
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    read_only: true
    logging: {driver: json-file, options: {max-size: 10m, max-file: "3"}}
    healthcheck: {test: curl -f http://localhost, interval: 10s, retries: 2}
volumes:
  data:
)");
  ASSERT_THAT(converted.errors, IsEmpty());
  const v1::Service* web = FindService(converted, "web");
  ASSERT_NE(web, nullptr);
  const v1::ContainerTemplate& t = web->spec().template_();
  EXPECT_THAT(t.command(), ElementsAre("/bin/sh", "-c"));
  EXPECT_THAT(t.args(), ElementsAre("echo 'a b'", "done"));
  ASSERT_EQ(t.env_size(), 2);
  EXPECT_EQ(t.env(1).value(), "two words");
  EXPECT_EQ(t.user(), "1000:1000");
  ASSERT_EQ(t.ports_size(), 3);
  EXPECT_EQ(t.ports(0).host_ip(), "127.0.0.1");
  EXPECT_EQ(t.ports(0).host_port(), 8080);
  EXPECT_EQ(t.ports(1).protocol(), "udp");
  EXPECT_EQ(t.ports(1).host_ip(), "0.0.0.0");  // compose publishes on every interface by default
  EXPECT_EQ(t.ports(2).host_port(), 8443);
  ASSERT_EQ(t.volume_mounts_size(), 3);
  EXPECT_TRUE(t.volume_mounts(0).read_only());
  EXPECT_TRUE(t.volume_mounts(1).host_path().starts_with("/"));
  EXPECT_TRUE(t.volume_mounts(1).host_path().ends_with("/conf"));
  EXPECT_EQ(web->spec().replicas(), 3);
  EXPECT_EQ(t.resources().memory_limit(), "512m");
  EXPECT_EQ(t.resources().pids_limit(), 100);
  EXPECT_EQ(t.resources().memory_reservation(), "256m");
  EXPECT_EQ(t.restart_policy(), "always");
  EXPECT_EQ(web->spec().node_selector().at("disk"), "ssd");
  EXPECT_EQ(web->spec().placement().max_replicas_per_node(), 1);
  EXPECT_EQ(web->metadata().labels().at("tier"), "front");
  EXPECT_EQ(web->metadata().labels().at("app"), "web");
  EXPECT_TRUE(t.security_context().read_only_root_filesystem());
  EXPECT_THAT(t.security_context().capabilities().drop(), ElementsAre("ALL"));
  EXPECT_EQ(t.logs().max_files(), 3);
  EXPECT_THAT(t.healthcheck().test(), ElementsAre("CMD-SHELL", "curl -f http://localhost"));
  // No network named: compose's default network, made for the stack.
  EXPECT_EQ(web->spec().network().name(), "shop-default");
  EXPECT_EQ(converted.objects[0].network().metadata().name(), "shop-default");
}

TEST(ComposeImport, FieldsLeftOutAreWarningsWithFileLineAndField) {
  ConvertedCompose converted = Convert(R"(version: "2.4"
services:
  app:
    image: app:1
    container_name: my-app
    depends_on: [db]
    restart: on-failure:5
    ports: ["80"]
  db:
    image: db:1
    tmpfs: /run
)");
  ASSERT_THAT(converted.errors, IsEmpty());
  EXPECT_THAT(converted.warnings[0], HasSubstr("compose.yml:5: service/app container_name: left out"));
  EXPECT_THAT(converted.warnings[1], HasSubstr("compose.yml:6: service/app depends_on: left out"));
  EXPECT_THAT(converted.warnings[2],
              HasSubstr("compose.yml:8: service/app ports[0]: compose publishes it on a random"));
  EXPECT_THAT(converted.warnings[3], HasSubstr("compose.yml:7: service/app restart: the retry count"));
  EXPECT_THAT(converted.warnings[4], HasSubstr("compose.yml:11: service/db tmpfs: left out"));
  EXPECT_FALSE(converted.objects.empty());
}

TEST(ComposeImport, UpdateConfigParallelismIsTheRolloutBatchAndSwarmsPacingIsWarned) {
  ConvertedCompose converted = Convert(R"(version: "3.8"
services:
  web:
    image: web:1
    deploy:
      update_config: {parallelism: 2, order: stop-first, delay: 10s}
)");
  ASSERT_THAT(converted.errors, IsEmpty());
  const v1::Service* web = nullptr;
  for (const v1::Object& object : converted.objects) {
    if (object.has_service()) web = &object.service();
  }
  ASSERT_NE(web, nullptr);
  EXPECT_EQ(web->spec().rollout().max_unavailable(), 2);
  std::vector<std::string> about_updates;
  for (const std::string& warning : converted.warnings) {
    if (absl::StrContains(warning, "update_config")) about_updates.push_back(warning);
  }
  ASSERT_EQ(about_updates.size(), 1u) << "stop-first is opctl's own order: nothing to say";
  EXPECT_THAT(about_updates[0], HasSubstr("compose.yml:6: service/web deploy.update_config.delay: left out"));
}

// compose's logging: the driver and its options as they are; a driver opctl does not take is said.
TEST(ComposeImport, LoggingKeepsTheDriverAndItsOptionsAndWarnsOfADriverOpctlDoesNotTake) {
  ConvertedCompose converted = Convert(R"(version: "2.4"
services:
  web:
    image: web:1
    logging: {driver: syslog, options: {syslog-address: "udp://10.0.0.5:514", tag: web}}
  db:
    image: db:1
    logging: {driver: awslogs, options: {awslogs-group: g}}
)");
  ASSERT_THAT(converted.errors, IsEmpty());
  const v1::Service* web = FindService(converted, "web");
  ASSERT_NE(web, nullptr);
  const v1::LogOptions& logs = web->spec().template_().logs();
  EXPECT_EQ(logs.driver(), "syslog");
  EXPECT_EQ(logs.options().at("syslog-address"), "udp://10.0.0.5:514");
  EXPECT_EQ(logs.options().at("tag"), "web");
  const v1::Service* db = FindService(converted, "db");
  ASSERT_NE(db, nullptr);
  EXPECT_TRUE(db->spec().template_().logs().driver().empty());
  EXPECT_TRUE(db->spec().template_().logs().options().empty());
  EXPECT_THAT(converted.warnings,
              ::testing::Contains(HasSubstr("compose.yml:8: service/db logging.driver: left out (json-file kept)")));
  for (const std::string& warning : converted.warnings)
    EXPECT_THAT(warning, ::testing::Not(HasSubstr("service/web logging"))) << "syslog is taken as it is";
}

struct Broken {
  const char* text;
  const char* error;
};

TEST(ComposeImport, BrokenFilesAreRefusedNamingFileLineAndFieldAndGiveNoObjects) {
  const Broken broken[] = {
      {"services:\n  a:\n    image: [x\n", "compose.yml:4: invalid YAML"},
      {"version: '1'\nservices:\n  a: {image: x}\n", "compose.yml:1: version: \"1\" is not a compose file version"},
      {"web:\n  image: x\n", "compose.yml:1: not a compose file"},
      {"services:\n  a:\n    image: x\n    imagee: y\n",
       "compose.yml:4: service/a imagee: is not a compose service field"},
      {"services:\n  a:\n    command: echo\n", "service/a: needs image"},
      {"services:\n  a:\n    image: x\n    ports: [\"99999\"]\n",
       "compose.yml:4: service/a ports[0]: \"99999\" is not a port"},
      {"services:\n  a:\n    image: x\n    volumes: [\"nope:/data\"]\n",
       "compose.yml:4: service/a volumes[0]: names volume \"nope\""},
      {"services:\n  a:\n    image: x\n    networks: [back]\n", "service/a networks.back: is not declared"},
      {"services:\n  a:\n    image: x\n    restart: sometimes\n",
       "compose.yml:4: service/a restart: \"sometimes\" is not a restart policy"},
      {"services:\n  a:\n    image: x\n    mem_limit: lots\n",
       "compose.yml:4: service/a: spec.template.resources.memoryLimit"},
      {"services:\n  a:\n    image: x\n    deploy: {replicas: many}\n",
       "compose.yml:4: service/a deploy.replicas: must be a whole number"},
      {"services:\n  a:\n    image: x\n    healthcheck: {test: [CMD, t], retries: lots}\n",
       "compose.yml:4: service/a healthcheck.retries: must be a whole number"},
      {"services:\n  a:\n    image: ${IMAGE:?give an image}\n",
       "compose.yml:3: interpolation: IMAGE is required: give an image"},
      {"services:\n  a:\n    image: x\n    env_file: missing.env\n", "compose.yml:4: service/a env_file: cannot read"},
      {"services:\n  a:\n    image: x\n    networks:\n      n: {ipv4_address: 10.0.0.999}\nnetworks:\n  n: {}\n",
       "compose.yml:5: service/a: spec.network.addresses[0]"},
  };
  for (const Broken& b : broken) {
    ConvertedCompose converted = Convert(b.text);
    EXPECT_TRUE(converted.objects.empty()) << b.text;
    ASSERT_FALSE(converted.errors.empty()) << b.text;
    EXPECT_THAT(converted.errors[0], HasSubstr(b.error)) << b.text;
  }
}

TEST(ComposeImport, LaterFilesOverrideEarlierOnesFieldByFieldAndMergeEnvironment) {
  ConvertedCompose converted = ConvertCompose(
      {{"base.yml", "services:\n  a:\n    image: a:1\n    environment: {X: '1', Y: '2'}\n    mem_limit: 1g\n"},
       {"override.yml", "services:\n  a:\n    image: a:2\n    environment: {Y: '3'}\n"}},
      {.stack = "s"});
  ASSERT_THAT(converted.errors, IsEmpty());
  const v1::Service* a = FindService(converted, "a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->spec().template_().image(), "a:2");
  EXPECT_EQ(a->spec().template_().resources().memory_limit(), "1g");
  ASSERT_EQ(a->spec().template_().env_size(), 2);
  EXPECT_EQ(a->spec().template_().env(1).value(), "3");
}

TEST(ComposeImport, VariablesAreInterpolatedAsComposeDoes) {
  ConvertedCompose converted = Convert("services:\n  a:\n    image: ${IMAGE}:${TAG:-7}\n    command: echo $$HOME\n",
                                       {.stack = "s", .variables = {{"IMAGE", "redis"}}});
  ASSERT_THAT(converted.errors, IsEmpty());
  const v1::Service* a = FindService(converted, "a");
  EXPECT_EQ(a->spec().template_().image(), "redis:7");
  EXPECT_THAT(a->spec().template_().args(), ElementsAre("echo", "$HOME"));
  ConvertedCompose unset = Convert("services:\n  a:\n    image: x${MISSING}\n");
  ASSERT_THAT(unset.errors, IsEmpty());
  EXPECT_THAT(unset.warnings[0], HasSubstr("compose.yml:3: interpolation: MISSING is not set"));
}

TEST(ComposeImport, SplitsCommandLinesLikeAShell) {
  EXPECT_THAT(compose::SplitCommandLine(R"(redis-server --save "" --appendonly 'yes please' a\ b)"),
              ElementsAre("redis-server", "--save", "", "--appendonly", "yes please", "a b"));
}

}  // namespace
}  // namespace opctl::cli
