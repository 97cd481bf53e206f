#include "agent/docker_json.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/curl_docker_client.h"
#include "tests/support/process.h"

namespace opctl::agent {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

std::string Seed(const std::string& name) {
  std::ifstream in(testing::SourcePath("tests/fuzz/corpus/docker_json/" + name));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(DockerJson, DecodesWhatDockerdSends) {
  absl::StatusOr<DockerContainer> container = DecodeContainerInspect(Seed("container-inspect.json"));
  ASSERT_TRUE(container.ok()) << container.status();
  EXPECT_EQ(container->name, "redis-master-0");
  EXPECT_EQ(container->state, "running");
  EXPECT_EQ(container->health, "healthy");
  EXPECT_EQ(container->restart_count, 2);
  EXPECT_EQ(container->memory_bytes, 2147483648);
  EXPECT_THAT(container->network_addresses, ElementsAre(Pair("redis-net", "172.19.0.2")));
  ASSERT_TRUE(container->healthcheck.has_value());
  EXPECT_THAT(container->healthcheck->test, ElementsAre("CMD", "redis-cli", "ping"));
  EXPECT_EQ(container->healthcheck->retries, 3);

  absl::StatusOr<std::vector<DockerContainer>> list = DecodeContainerList(Seed("container-list.json"));
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "redis-master-0");
  EXPECT_EQ((*list)[0].health, "healthy");
  EXPECT_EQ((*list)[1].state, "exited");

  absl::StatusOr<std::vector<DockerNetwork>> networks = DecodeNetworkList(Seed("networks.json"));
  ASSERT_TRUE(networks.ok());
  EXPECT_EQ((*networks)[0].subnet, "172.19.0.0/16");
  EXPECT_EQ((*networks)[0].gateway, "172.19.0.1");
  EXPECT_EQ(DecodeNetworkInspect(Seed("networks.json").substr(1, Seed("networks.json").size() - 3))->containers, 1);
  EXPECT_EQ(DecodeVolumeList(Seed("volumes.json"))->at(0).name, "redis_master_data");
  EXPECT_EQ(DecodeInfo(Seed("info.json"))->cpus, 2);
  EXPECT_THAT(DecodeInfo(Seed("info.json"))->log_drivers, ::testing::Contains("syslog"));
  EXPECT_THAT(DecodeInfo(R"({"Plugins": {"Log": "json-file"}})")->log_drivers, ::testing::IsEmpty()) << "not a list";
  EXPECT_EQ(*DecodeApiVersion(Seed("info.json")), "1.41");
  EXPECT_EQ(DecodeEvent(Seed("event.json"))->attributes.at("name"), "redis-master-0");
  EXPECT_EQ(*DecodeExecExitCode(Seed("exec.json")), 1);
  EXPECT_EQ(DecodeErrorMessage(Seed("error.json")), "No such container: web-9");
  EXPECT_EQ(DecodeProgressError(R"({"error":"pull access denied"})"), "pull access denied");
}

// A broken or hostile dockerd: wrong types read as absent, wrong shapes are errors, nothing throws.
TEST(DockerJson, WrongTypesAndShapesNeverThrow) {
  absl::StatusOr<DockerContainer> odd = DecodeContainerInspect(
      R"({"Id":7,"Name":[],"Config":"x","State":5,"NetworkSettings":[],"HostConfig":{"Memory":1e300},
          "RestartCount":99999999999})");
  ASSERT_TRUE(odd.ok());
  EXPECT_EQ(odd->id, "");
  EXPECT_EQ(odd->memory_bytes, 0);
  EXPECT_EQ(odd->restart_count, 0);
  absl::StatusOr<std::vector<DockerContainer>> items = DecodeContainerList(R"([1, "a", null, {"Names": [""]}])");
  ASSERT_TRUE(items.ok());
  EXPECT_EQ(items->size(), 4u);
  EXPECT_FALSE(DecodeContainerList(R"({"not":"a list"})").ok());
  EXPECT_FALSE(DecodeContainerInspect("[").ok());
  EXPECT_TRUE(DecodeVolumeList(R"({"Volumes":{"a":1}})")->empty());
  EXPECT_FALSE(DecodeVolumeList("[]").ok());
  EXPECT_FALSE(DecodeEvent("not json").has_value());
  EXPECT_FALSE(DecodeExecExitCode(R"({"Running":true})").ok());
  // A killed command has no exit code: that is a failure, never the 0 of success.
  EXPECT_FALSE(DecodeExecExitCode(R"({"Running":false,"ExitCode":null})").ok());
  EXPECT_FALSE(DecodeExecExitCode(R"({"Running":false})").ok());
  EXPECT_EQ(*DecodeExecExitCode(R"({"Running":false,"ExitCode":0})"), 0);
  EXPECT_EQ(DecodeErrorMessage("plain text"), "plain text");
}

// What the agent asks dockerd for, as Docker's API spells it: the safe defaults, the resolved bind
// mount, the one endpoint with its address.
TEST(DockerJson, AContainerCreateBodyCarriesTheLimitsMountsAndEndpoint) {
  DockerContainerSpec spec;
  spec.image = "opctl/busybox:test";
  spec.restart_policy = "no";
  spec.pids_limit = 4096;
  spec.no_new_privileges = true;
  spec.log_max_bytes = 10 << 20;
  spec.log_max_files = 3;
  spec.mounts.push_back({"", "/srv/real", "/data", true});
  spec.network = "net";
  spec.ipv4_address = "10.1.0.5";
  nlohmann::json body = nlohmann::json::parse(EncodeContainerCreate(spec));
  const nlohmann::json& host = body["HostConfig"];
  EXPECT_EQ(host["PidsLimit"], 4096);
  EXPECT_EQ(host["SecurityOpt"], nlohmann::json::array({"no-new-privileges:true"}));
  EXPECT_EQ(host["LogConfig"]["Config"]["max-size"], "10485760");
  EXPECT_EQ(host["LogConfig"]["Config"]["max-file"], "3");
  EXPECT_EQ(host["RestartPolicy"]["Name"], "no");
  EXPECT_EQ(host["Mounts"][0]["Type"], "bind");
  EXPECT_EQ(host["Mounts"][0]["Source"], "/srv/real");
  EXPECT_EQ(body["NetworkingConfig"]["EndpointsConfig"]["net"]["IPAMConfig"]["IPv4Address"], "10.1.0.5");
  // The MAC other nodes derive from the address (common/ipv4.h), for the overlay.
  EXPECT_EQ(body["NetworkingConfig"]["EndpointsConfig"]["net"]["MacAddress"], "02:42:0a:01:00:05");
  // Another driver: its own options, no rotation.
  DockerContainerSpec shipped;
  shipped.log_driver = "syslog";
  shipped.log_options = {{"syslog-address", "udp://127.0.0.1:514"}, {"tag", "web"}};
  nlohmann::json log_config = nlohmann::json::parse(EncodeContainerCreate(shipped))["HostConfig"]["LogConfig"];
  EXPECT_EQ(log_config["Type"], "syslog");
  EXPECT_EQ(log_config["Config"], nlohmann::json({{"syslog-address", "udp://127.0.0.1:514"}, {"tag", "web"}}));
  nlohmann::json connect = nlohmann::json::parse(EncodeNetworkConnect("abc", "172.19.0.3"));
  EXPECT_EQ(connect["EndpointConfig"]["MacAddress"], "02:42:ac:13:00:03");
  nlohmann::json network =
      nlohmann::json::parse(EncodeNetworkCreate({"net", "10.1.0.0/24", "10.1.0.1", true, {}, 1450}));
  EXPECT_EQ(network["IPAM"]["Config"][0]["Gateway"], "10.1.0.1");
  EXPECT_EQ(network["Internal"], true);
  EXPECT_EQ(network["Options"]["com.docker.network.driver.mtu"], "1450");
  absl::StatusOr<std::vector<DockerNetwork>> listed = DecodeNetworkList(
      R"([{"Id": "n1", "Name": "net", "Options": {"com.docker.network.driver.mtu": "1450"}, "IPAM": {"Config": []}}])");
  ASSERT_TRUE(listed.ok());
  EXPECT_EQ(listed->front().mtu, 1450);
}

TEST(DockerJson, BytesThatAreNotUtf8AreReplacedNotThrown) {
  DockerContainerSpec spec;
  spec.image = "busybox";
  spec.labels["note"] = std::string("caf\xe9");  // Latin-1, not UTF-8
  nlohmann::json body;
  ASSERT_NO_THROW(body = nlohmann::json::parse(EncodeContainerCreate(spec)));
  EXPECT_EQ(body["Labels"]["note"], "caf\xef\xbf\xbd");  // U+FFFD
}

TEST(DockerJson, StatsAreWorkedOutAsDockerStatsPrintsThem) {
  // cgroup v2, as dockerd 20.10 sends it (trimmed): half a CPU of two busy over the sample.
  absl::StatusOr<DockerStats> v2 = DecodeStats(R"({
    "cpu_stats": {"cpu_usage": {"total_usage": 1500000000}, "system_cpu_usage": 20000000000, "online_cpus": 2},
    "precpu_stats": {"cpu_usage": {"total_usage": 1000000000}, "system_cpu_usage": 18000000000},
    "memory_stats": {"usage": 10485760, "limit": 134217728, "stats": {"inactive_file": 2097152}},
    "networks": {"eth0": {"rx_bytes": 1000, "tx_bytes": 200}, "eth1": {"rx_bytes": 24, "tx_bytes": 6}},
    "blkio_stats": {"io_service_bytes_recursive": [{"op": "read", "value": 4096}, {"op": "write", "value": 8192}]},
    "pids_stats": {"current": 5}})");
  ASSERT_TRUE(v2.ok()) << v2.status();
  EXPECT_DOUBLE_EQ(v2->cpu_percent, 50.0);  // 0.5 s of 2 s system time, times 2 CPUs
  EXPECT_EQ(v2->memory_bytes, 8 << 20);
  EXPECT_EQ(v2->memory_limit_bytes, 128 << 20);
  EXPECT_EQ(v2->network_rx_bytes, 1024);
  EXPECT_EQ(v2->network_tx_bytes, 206);
  EXPECT_EQ(v2->block_read_bytes, 4096);
  EXPECT_EQ(v2->block_write_bytes, 8192);
  EXPECT_EQ(v2->pids, 5);
  // cgroup v1 names the cache total_inactive_file and the I/O ops Read and Write; an older dockerd
  // leaves out online_cpus, and the per-CPU list counts them.
  absl::StatusOr<DockerStats> v1 = DecodeStats(R"({
    "cpu_stats": {"cpu_usage": {"total_usage": 100, "percpu_usage": [50, 50]}, "system_cpu_usage": 1000},
    "precpu_stats": {},
    "memory_stats": {"usage": 3000, "limit": 9000, "stats": {"total_inactive_file": 1000}},
    "blkio_stats": {"io_service_bytes_recursive": [{"op": "Read", "value": 1}, {"op": "Write", "value": 2},
                                                   {"op": "Total", "value": 3}]}})");
  ASSERT_TRUE(v1.ok()) << v1.status();
  EXPECT_DOUBLE_EQ(v1->cpu_percent, 20.0);  // 100 of 1000, times 2 CPUs
  EXPECT_EQ(v1->memory_bytes, 2000);
  EXPECT_EQ(v1->block_read_bytes, 1);
  EXPECT_EQ(v1->block_write_bytes, 2);
  // No samples at all (a container that has just stopped): zeros, not a division by zero.
  absl::StatusOr<DockerStats> idle = DecodeStats(R"({"cpu_stats": {}, "precpu_stats": {}, "memory_stats": {}})");
  ASSERT_TRUE(idle.ok());
  EXPECT_EQ(idle->cpu_percent, 0);
  EXPECT_FALSE(DecodeStats("[1]").ok());
}

}  // namespace
}  // namespace opctl::agent

namespace opctl::agent {
namespace {

// Metric labels: the call without the names and ids in its path, so the series stay few.
TEST(DockerCallName, LeavesOutNamesIdsAndQueries) {
  EXPECT_EQ(DockerCallName("GET", "/containers/json?all=1&filters=x"), "GET containers/json");
  EXPECT_EQ(DockerCallName("POST", "/containers/create?name=redis-master-0"), "POST containers/create");
  EXPECT_EQ(DockerCallName("GET", "/containers/redis-master-0/json"), "GET containers/{id}/json");
  EXPECT_EQ(DockerCallName("DELETE", "/containers/4f3a9c?force=1&v=0"), "DELETE containers/{id}");
  EXPECT_EQ(DockerCallName("POST", "/containers/abc/start"), "POST containers/{id}/start");
  EXPECT_EQ(DockerCallName("POST", "/containers/abc/no-such-action"), "POST containers/{id}/{action}");
  EXPECT_EQ(DockerCallName("GET", "/info"), "GET info");
  // An image name with a slash in it still gives a bounded name.
  EXPECT_EQ(DockerCallName("GET", "/images/opctl/busybox:test/json"), "GET images/{id}/{action}");
}

}  // namespace
}  // namespace opctl::agent
