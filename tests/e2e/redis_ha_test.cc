// The seed's Redis stack spread over three real Docker hosts (scripts/testbed.sh: a dockerd per
// network namespace), its Network stretched between them by the agents' VXLAN overlay
// (manifests/redis-ha.yaml). Covers reachability both ways across hosts with source addresses kept
// and full-size frames, and losing the master's host (its link cut) under a writer that WAITs for
// a replica: a new master, no acknowledged write lost, the isolated master refusing writes, and its
// return as a replica. OPCTL_HA_TRIALS repeats the fault (default 1; scripts/soak.sh runs more).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::WaitFor;

constexpr int kHosts = 3;
constexpr char kBridgeAddress[] = "10.231.0.1";
constexpr int kControllerPort = 7194;
constexpr char kImages[] = "opctl/busybox:test opctl/redis-master:7.0 opctl/redis-replica:7.0 opctl/redis-sentinel:7.0";

// Three probes on redis-net, one per host, each serving its own files over HTTP on 8080.
constexpr char kProbes[] = R"(apiVersion: opctl.io/v1
kind: Service
metadata: {name: probe, stack: redis}
spec:
  replicas: 3
  placement: {maxReplicasPerNode: 1}
  network: {name: redis-net, addresses: [172.19.0.20, 172.19.0.21, 172.19.0.22]}
  template:
    image: opctl/busybox:test
    user: "0"
    command: ["sh", "-c", "head -c 1048576 /dev/urandom > /payload && exec httpd -f -p 8080 -h /"]
)";

CommandResult Testbed(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {"env", "OPCTL_AGENT=" + testing::BinaryPath("opctl-agent"),
                                   absl::StrCat("TESTBED_IMAGES=", kImages), "bash",
                                   testing::SourcePath("scripts/testbed.sh")};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return testing::RunCommand(argv);
}

int Trials() {
  int trials = 1;
  const char* text = std::getenv("OPCTL_HA_TRIALS");
  return text != nullptr && absl::SimpleAtoi(text, &trials) && trials > 0 ? trials : 1;
}

class RedisHaTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    CommandResult up = Testbed({"up", absl::StrCat(kHosts), "--controller",
                                absl::StrCat(kBridgeAddress, ":", kControllerPort), "--certs", testing::TestTls().dir});
    ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
    auto controller = testing::ControllerProcess::Start(testing::MakeTempDir("opctl-e2e-redis-ha"), kControllerPort, {},
                                                        kBridgeAddress);
    ASSERT_TRUE(controller.ok()) << controller.status();
    controller_ = controller->release();
    CommandResult applied = Opctl({"apply", "-f", testing::SourcePath("manifests/redis-ha.yaml")});
    ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
    applied = controller_->Opctl({"apply", "-f", "-"}, kProbes);
    ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
    CommandResult ready = Opctl({"wait", "service/redis-master", "service/redis-replica", "service/redis-sentinel",
                                 "service/probe", "--timeout", "180s"});
    ASSERT_EQ(ready.exit_code, 0) << ready.out << ready.err << Opctl({"get", "containers"}).out;
  }

  static void TearDownTestSuite() {
    CommandResult down = Testbed({"down"});
    EXPECT_EQ(down.exit_code, 0) << down.err;
    delete controller_;
  }

  static CommandResult Opctl(const std::vector<std::string>& arguments) { return controller_->Opctl(arguments); }

  // Container name -> the host number it is bound to; `addresses` (when given) gets each one's
  // address on redis-net.
  static std::map<std::string, int> Hosts(std::map<std::string, std::string>* addresses = nullptr) {
    std::map<std::string, int> hosts;
    CommandResult listed = Opctl({"get", "containers", "-o", "json"});
    nlohmann::json list = nlohmann::json::parse(listed.out, nullptr, false);
    if (!list.is_object()) return hosts;
    for (const nlohmann::json& item : list["items"]) {
      std::string node = item["spec"].value("nodeName", "");
      std::string name = item["metadata"]["name"];
      int host = 0;
      if (absl::SimpleAtoi(absl::StripPrefix(node, "host"), &host)) hosts[name] = host;
      if (addresses != nullptr) (*addresses)[name] = item["spec"]["network"].value("ipv4Address", "");
    }
    return hosts;
  }

  // The Redis server (master or replica) at `address`.
  static std::string RedisAt(const std::map<std::string, std::string>& addresses, const std::string& address) {
    for (const auto& [name, at] : addresses) {
      if (at == address && absl::StartsWith(name, "redis-") && !absl::StartsWith(name, "redis-sentinel")) return name;
    }
    return "";
  }

  // A shell command in `container` on host `host`, straight through that host's dockerd (whose
  // socket answers even while the host's link is cut).
  static CommandResult Shell(int host, const std::string& container, const std::string& command) {
    return Testbed({"docker", absl::StrCat(host), "exec", container, "sh", "-c", command});
  }

  static std::string Trimmed(const CommandResult& result) {
    return std::string(absl::StripAsciiWhitespace(result.out + result.err));
  }

  // The master's address as the Sentinel on `host` sees it.
  static std::string MasterAccordingTo(int host, const std::string& sentinel) {
    std::string answer =
        Trimmed(Shell(host, sentinel, "redis-cli -p 26379 --raw SENTINEL get-master-addr-by-name mymaster"));
    return answer.substr(0, answer.find('\n'));
  }

  static testing::ControllerProcess* controller_;
};

testing::ControllerProcess* RedisHaTest::controller_ = nullptr;

TEST_F(RedisHaTest, TheStackSpreadsOverThreeHosts) {
  std::map<std::string, int> hosts = Hosts();
  std::set<int> redis = {hosts["redis-master-0"], hosts["redis-replica-0"], hosts["redis-replica-1"]};
  std::set<int> sentinels = {hosts["redis-sentinel-0"], hosts["redis-sentinel-1"], hosts["redis-sentinel-2"]};
  EXPECT_EQ(redis.size(), 3u) << "the master and each replica on a host of its own";
  EXPECT_EQ(sentinels.size(), 3u) << "each Sentinel on a host of its own";
  EXPECT_FALSE(redis.count(0) || sentinels.count(0));
}

TEST_F(RedisHaTest, ContainersOnDifferentHostsReachEachOtherWithTheirOwnAddressesAndFullFrames) {
  std::map<std::string, int> hosts = Hosts();
  // The replicas on the other two hosts replicate from the master: it sees them at their own
  // addresses, so nothing rewrote their source address on the way.
  std::string replication = Trimmed(Shell(hosts["redis-master-0"], "redis-master-0", "redis-cli INFO replication"));
  EXPECT_THAT(replication, HasSubstr("connected_slaves:2"));
  EXPECT_THAT(replication, HasSubstr("ip=172.19.0.3,"));
  EXPECT_THAT(replication, HasSubstr("ip=172.19.0.4,"));
  // Every probe fetches 1 MiB from every other one: both ways between each pair of hosts, in
  // segments as large as the Network's MTU (1450) lets TCP make them.
  for (int from = 0; from < 3; ++from) {
    for (int to = 0; to < 3; ++to) {
      if (from == to) continue;
      std::string source = absl::StrCat("probe-", from);
      CommandResult fetched =
          Shell(hosts[source], source,
                absl::StrCat("printf 'GET /payload HTTP/1.0\\r\\n\\r\\n' | nc -w 5 172.19.0.2", to, " 8080 | wc -c"));
      int64_t bytes = 0;
      ASSERT_TRUE(absl::SimpleAtoi(Trimmed(fetched), &bytes)) << Trimmed(fetched);
      EXPECT_GT(bytes, 1048576) << source << " (host" << hosts[source] << ") from probe-" << to;
    }
  }
}

TEST_F(RedisHaTest, LosingTheMastersHostFailsOverWithoutLosingAnAcknowledgedWrite) {
  for (int trial = 1; trial <= Trials(); ++trial) {
    std::map<std::string, std::string> addresses;
    std::map<std::string, int> hosts = Hosts(&addresses);
    // The master now (an earlier trial may have moved it), and a writer on another host.
    std::string sentinel_name = "redis-sentinel-0";
    std::string master_address = MasterAccordingTo(hosts[sentinel_name], sentinel_name);
    std::string master_container = RedisAt(addresses, master_address);
    ASSERT_FALSE(master_container.empty()) << "no Redis container at " << master_address;
    int master_host = hosts[master_container];
    int writer_host = master_host % kHosts + 1;
    std::string writer;
    for (const auto& [name, host] : hosts) {
      if (absl::StartsWith(name, "redis-sentinel") && host == writer_host) writer = name;
    }
    ASSERT_FALSE(writer.empty());

    // Each write: SET and WAIT 1 on one connection, to whoever the writer's Sentinel names.
    std::mutex mutex;
    std::vector<std::pair<std::string, std::string>> acknowledged;  // key, master address
    std::atomic<bool> stop = false;
    std::thread writing([&] {
      for (int i = 0; !stop; ++i) {
        std::string key = absl::StrCat("ha:", trial, ":", i);
        CommandResult result =
            Shell(writer_host, writer,
                  absl::StrCat("m=$(redis-cli -p 26379 --raw SENTINEL get-master-addr-by-name mymaster | head -1); "
                               "printf 'SET ",
                               key, " v\\r\\nWAIT 1 1000\\r\\n' | redis-cli -h \"$m\" --raw; echo \"master=$m\""));
        std::vector<std::string> lines = absl::StrSplit(Trimmed(result), '\n');
        if (lines.size() == 3 && lines[0] == "OK" && lines[1] == "1") {
          std::lock_guard<std::mutex> lock(mutex);
          acknowledged.emplace_back(key, std::string(absl::StripPrefix(lines[2], "master=")));
        }
      }
    });
    auto acknowledged_by = [&](const std::function<bool(const std::string&)>& master, size_t at_least) {
      std::lock_guard<std::mutex> lock(mutex);
      size_t count = 0;
      for (const auto& [key, by] : acknowledged) count += master(by) ? 1 : 0;
      return count >= at_least;
    };
    ASSERT_TRUE(WaitFor([&] { return acknowledged_by([&](const std::string& m) { return m == master_address; }, 5); },
                        absl::Seconds(30)))
        << "no 5 WAITed writes to " << master_address << " before the fault";

    ASSERT_EQ(Testbed({"link-down", absl::StrCat(master_host)}).exit_code, 0);
    absl::Time cut = absl::Now();
    bool failed_over =
        WaitFor([&] { return acknowledged_by([&](const std::string& m) { return m != master_address; }, 1); },
                absl::Seconds(30));
    double failover_seconds = absl::ToDoubleSeconds(absl::Now() - cut);
    // The isolated master sees no replica: it refuses writes (min-replicas-to-write 1).
    CommandResult isolated = Shell(master_host, master_container, "redis-cli SET ha:isolated v");
    ASSERT_TRUE(WaitFor([&] { return acknowledged_by([&](const std::string& m) { return m != master_address; }, 5); },
                        absl::Seconds(30)));
    ASSERT_EQ(Testbed({"link-up", absl::StrCat(master_host)}).exit_code, 0);
    stop = true;
    writing.join();
    ASSERT_TRUE(failed_over) << "no write acknowledged by a new master within 30 s of cutting host" << master_host;
    EXPECT_THAT(Trimmed(isolated), HasSubstr("NOREPLICAS")) << "the isolated master took a write";

    // Back on the network, the old master rejoins as a replica of the new one.
    std::string new_master = MasterAccordingTo(writer_host, writer);
    EXPECT_NE(new_master, master_address);
    EXPECT_TRUE(WaitFor(
        [&] {
          std::string role = Trimmed(Shell(master_host, master_container, "redis-cli INFO replication"));
          return absl::StrContains(role, "role:slave") && absl::StrContains(role, "master_link_status:up") &&
                 absl::StrContains(role, "master_host:" + new_master);
        },
        absl::Seconds(60)))
        << Trimmed(Shell(master_host, master_container, "redis-cli INFO replication"));
    // Every acknowledged write is on the new master.
    std::string new_master_container = RedisAt(addresses, new_master);
    ASSERT_FALSE(new_master_container.empty());
    std::string keys;
    for (const auto& [key, by] : acknowledged) absl::StrAppend(&keys, " ", key);
    CommandResult values = Shell(hosts[new_master_container], new_master_container,
                                 absl::StrCat("redis-cli --raw MGET", keys, " | grep -c '^v$'"));
    EXPECT_EQ(Trimmed(values), absl::StrCat(acknowledged.size())) << "an acknowledged write was lost";
    std::printf(
        "trial %d: host%d (master %s) cut; %s is master %.2f s later; %zu writes acknowledged with WAIT 1, "
        "none lost; the isolated master refused writes and rejoined as a replica\n",
        trial, master_host, master_address.c_str(), new_master.c_str(), failover_seconds, acknowledged.size());
  }
}

}  // namespace
}  // namespace opctl
