// The seed's Redis stack spread over three real Docker hosts (scripts/testbed.sh: a dockerd per
// network namespace), its Network stretched between them by the agents' VXLAN overlay
// (manifests/redis-ha.yaml). Covers reachability both ways across hosts with source addresses kept
// and full-size frames, and losing the master's host (its link cut) under a writer that WAITs for
// a replica: a new master, no acknowledged write lost, the isolated master refusing writes, and its
// return as a replica; the same for a replica's host (which also holds a Sentinel). Each fault runs
// OPCTL_HA_TRIALS times (default 3; scripts/soak.sh runs more).
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
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/support/process.h"
#include "tests/support/testbed.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::WaitFor;

constexpr int kHosts = 3;
constexpr const char* kBridgeAddress = testing::kTestbedBridgeAddress;
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

CommandResult Testbed(const std::vector<std::string>& arguments) { return testing::Testbed(arguments, kImages); }

// Which host a fault trial cuts.
enum class Cut { kMastersHost, kAReplicasHost };

int Trials() {
  int trials = 3;
  const char* text = std::getenv("OPCTL_HA_TRIALS");
  return text != nullptr && absl::SimpleAtoi(text, &trials) && trials > 0 ? trials : 3;
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

  // Every Sentinel knows the master, both replicas and the two other Sentinels: what a failover
  // needs (a Sentinel learns the replicas from the master's INFO, every 10 s).
  static bool SentinelsSettled(const std::map<std::string, int>& hosts) {
    for (int i = 0; i < 3; ++i) {
      std::string sentinel = absl::StrCat("redis-sentinel-", i);
      auto host = hosts.find(sentinel);
      if (host == hosts.end()) return false;
      std::vector<std::string> lines = absl::StrSplit(
          Trimmed(Shell(host->second, sentinel, "redis-cli -p 26379 --raw SENTINEL master mymaster | paste - -")),
          '\n');
      std::set<std::string> fields(lines.begin(), lines.end());
      if (!fields.count("flags\tmaster") || !fields.count("num-slaves\t2") || !fields.count("num-other-sentinels\t2")) {
        return false;
      }
    }
    return true;
  }

  // Cuts the link of one host (which: `cut`) under a Writer on another host and checks what
  // happens, through its return.
  static void CutOneHostUnderAWriter(Cut cut, int trial);

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

// A writer on host `host`, in the Sentinel `container` there: SET and WAIT 1 on one connection, in a
// loop, to whoever that Sentinel names master (a master cut off would hold a connect for minutes:
// each write gets 1.5 s, WAIT 1 1000 included). Remembers each write acknowledged by a replica, and by which master.
class Writer {
 public:
  Writer(int host, std::string container, std::string prefix)
      : host_(host), container_(std::move(container)), prefix_(std::move(prefix)), thread_([this] { Run(); }) {}
  ~Writer() { Stop(); }

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Acknowledged writes whose master `counts`.
  size_t Count(const std::function<bool(const std::string&)>& counts) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t count = 0;
    for (const auto& [key, master] : acknowledged_) count += counts(master) ? 1 : 0;
    return count;
  }
  std::vector<std::string> Keys() {
    std::lock_guard<std::mutex> lock(mutex_);
    std::vector<std::string> keys;
    for (const auto& [key, master] : acknowledged_) keys.push_back(key);
    return keys;
  }

 private:
  void Run() {
    for (int i = 0; !stop_; ++i) {
      std::string key = absl::StrCat(prefix_, i);
      CommandResult result =
          Testbed({"docker", absl::StrCat(host_), "exec", container_, "sh", "-c",
                   absl::StrCat(
                       "m=$(redis-cli -p 26379 --raw SENTINEL get-master-addr-by-name mymaster | head -1); "
                       "printf 'SET ",
                       key, " v\\r\\nWAIT 1 1000\\r\\n' | timeout 1.5 redis-cli -h \"$m\" --raw; echo \"master=$m\"")});
      std::vector<std::string> lines = absl::StrSplit(absl::StripAsciiWhitespace(result.out), '\n');
      if (lines.size() == 3 && lines[0] == "OK" && lines[1] == "1") {
        std::lock_guard<std::mutex> lock(mutex_);
        acknowledged_.emplace_back(key, std::string(absl::StripPrefix(lines[2], "master=")));
      }
    }
  }

  const int host_;
  const std::string container_, prefix_;
  std::mutex mutex_;
  std::vector<std::pair<std::string, std::string>> acknowledged_;  // key, master address
  std::atomic<bool> stop_ = false;
  std::thread thread_;
};

void RedisHaTest::CutOneHostUnderAWriter(Cut cut, int trial) {
  // Settled first: every Sentinel knows both replicas and the others (a Sentinel moved back after an
  // earlier trial's host returned needs a moment).
  std::map<std::string, std::string> addresses;
  std::map<std::string, int> hosts;
  ASSERT_TRUE(WaitFor(
      [&] {
        hosts = Hosts(&addresses);
        return SentinelsSettled(hosts);
      },
      absl::Seconds(90)))
      << "the Sentinels did not all come to know both replicas and each other";
  std::string master_address = MasterAccordingTo(hosts["redis-sentinel-0"], "redis-sentinel-0");
  std::string master = RedisAt(addresses, master_address);
  ASSERT_FALSE(master.empty()) << "no Redis container at " << master_address;
  int cut_host = hosts[master];
  if (cut == Cut::kAReplicasHost) cut_host = cut_host % kHosts + 1;  // every other host runs a replica
  std::string cut_redis;
  for (const auto& [name, host] : hosts) {
    if (host == cut_host && !RedisAt(addresses, addresses[name]).empty()) cut_redis = name;
  }
  int writer_host = cut_host % kHosts + 1;
  std::string writer_sentinel;
  for (const auto& [name, host] : hosts) {
    if (absl::StartsWith(name, "redis-sentinel") && host == writer_host) writer_sentinel = name;
  }
  ASSERT_FALSE(writer_sentinel.empty() || cut_redis.empty());

  Writer writer(writer_host, writer_sentinel, absl::StrCat("ha:", static_cast<int>(cut), ":", trial, ":"));
  auto by_old = [&](const std::string& m) { return m == master_address; };
  auto by_other = [&](const std::string& m) { return m != master_address; };
  ASSERT_TRUE(WaitFor([&] { return writer.Count(by_old) >= 5; }, absl::Seconds(30)))
      << "no 5 WAITed writes to " << master_address << " before the fault";
  size_t before = writer.Count(by_old);

  ASSERT_EQ(Testbed({"link-down", absl::StrCat(cut_host)}).exit_code, 0);
  absl::Time cut_at = absl::Now();
  // Cutting the master's host: a new master takes writes. Cutting a replica's: the master goes on
  // taking them, acknowledged by the other replica.
  auto next = cut == Cut::kMastersHost ? std::function<bool(const std::string&)>(by_other) : by_old;
  size_t already = cut == Cut::kMastersHost ? 0 : before;
  bool carried_on = WaitFor([&] { return writer.Count(next) > already; }, absl::Seconds(30));
  double gap_seconds = absl::ToDoubleSeconds(absl::Now() - cut_at);
  // The cut Redis never acknowledges a write: WAIT finds no replica. A cut master still takes plain
  // writes until its replicas lag by min-replicas-max-lag (10 s), then refuses them (NOREPLICAS).
  std::string isolated_wait =
      Trimmed(Shell(cut_host, cut_redis, "printf 'SET ha:isolated v\\r\\nWAIT 1 1000\\r\\n' | redis-cli --raw"));
  std::string isolated_write;
  bool refused = WaitFor(
      [&] {
        isolated_write = Trimmed(Shell(cut_host, cut_redis, "redis-cli SET ha:isolated v"));
        return absl::StrContains(isolated_write, "NOREPLICAS") || absl::StrContains(isolated_write, "READONLY");
      },
      absl::Seconds(20));
  bool five_more = WaitFor([&] { return writer.Count(next) >= already + 5; }, absl::Seconds(30));
  // Lost for opctl too (its agent's lease lapsed, its movable containers fenced), not a blip.
  bool lost = WaitFor(
      [&] {
        nlohmann::json node = nlohmann::json::parse(
            Opctl({"get", "node", absl::StrCat("host", cut_host), "-o", "json"}).out, nullptr, false);
        if (!node.is_object()) return false;
        for (const nlohmann::json& condition : node["status"]["conditions"]) {
          if (condition.value("type", "") == "Ready") return condition.value("status", "") != "True";
        }
        return false;
      },
      absl::Seconds(30));
  ASSERT_EQ(Testbed({"link-up", absl::StrCat(cut_host)}).exit_code, 0);
  writer.Stop();
  EXPECT_TRUE(lost) << "host" << cut_host << " was never marked NotReady";
  ASSERT_TRUE(carried_on && five_more) << "the writer did not carry on within 30 s of cutting host" << cut_host;
  // The isolated master refuses writes (min-replicas-to-write 1); a replica refuses them anyway.
  EXPECT_TRUE(refused) << "the isolated " << cut_redis << " still takes writes 20 s on: " << isolated_write;
  EXPECT_THAT(isolated_wait, ::testing::AnyOf(HasSubstr("READONLY"), ::testing::EndsWith("\n0")))
      << "the isolated " << cut_redis << " acknowledged a write";

  // Back on the network, the cut Redis is a replica of whoever is master now, in sync.
  std::string now_master = MasterAccordingTo(writer_host, writer_sentinel);
  if (cut == Cut::kMastersHost) EXPECT_NE(now_master, master_address);
  EXPECT_TRUE(WaitFor(
      [&] {
        std::string role = Trimmed(Shell(cut_host, cut_redis, "redis-cli INFO replication"));
        return absl::StrContains(role, "role:slave") && absl::StrContains(role, "master_link_status:up") &&
               absl::StrContains(role, "master_host:" + now_master);
      },
      absl::Seconds(60)))
      << Trimmed(Shell(cut_host, cut_redis, "redis-cli INFO replication"));
  // Every acknowledged write is on the master.
  std::string now_master_container = RedisAt(addresses, now_master);
  ASSERT_FALSE(now_master_container.empty());
  std::vector<std::string> keys = writer.Keys();
  CommandResult values = Shell(hosts[now_master_container], now_master_container,
                               absl::StrCat("redis-cli --raw MGET ", absl::StrJoin(keys, " "), " | grep -c '^v$'"));
  EXPECT_EQ(Trimmed(values), absl::StrCat(keys.size())) << "an acknowledged write was lost";
  std::printf(
      "%s trial %d: host%d (%s) cut; writes went on %.2f s later (master %s); %zu writes acknowledged "
      "with WAIT 1, none lost; the cut Redis refused writes and rejoined as a replica\n",
      cut == Cut::kMastersHost ? "master host cut" : "replica host cut", trial, cut_host, cut_redis.c_str(),
      gap_seconds, now_master.c_str(), keys.size());
}

// probe-`from` fetched probe-`to`'s 1 MiB whole.
bool Fetches(std::map<std::string, int>& hosts, int from, int to) {
  std::string source = absl::StrCat("probe-", from);
  CommandResult fetched =
      Testbed({"docker", absl::StrCat(hosts[source]), "exec", source, "sh", "-c",
               absl::StrCat("printf 'GET /payload HTTP/1.0\\r\\n\\r\\n' | nc -w 3 172.19.0.2", to, " 8080 | wc -c")});
  int64_t bytes = 0;
  return absl::SimpleAtoi(absl::StripAsciiWhitespace(fetched.out), &bytes) && bytes > 1048576;
}

// The probe's host, and the index of its overlay link there (the same index: adopted, not made again).
int OverlayLinkIndex(int host) {
  CommandResult shown = testing::RunCommand(
      {"nsenter", absl::StrCat("--net=/var/run/netns/opctl-tb-", host), "ip", "-o", "link", "show", "type", "vxlan"});
  int index = 0;
  return absl::SimpleAtoi(shown.out.substr(0, shown.out.find(':')), &index) ? index : 0;
}

TEST_F(RedisHaTest, AKilledAgentAndARestartedDockerdGetTheirOverlayBackUnaided) {
  std::map<std::string, int> hosts = Hosts();
  int host = hosts["probe-2"];
  int index = OverlayLinkIndex(host);
  ASSERT_NE(index, 0);
  // kill -9 of the agent and a new one at once: it adopts the link and entries as they are.
  ASSERT_EQ(Testbed({"agent-kill", absl::StrCat(host)}).exit_code, 0);
  ASSERT_EQ(Testbed({"agent-start", absl::StrCat(host)}).exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return Fetches(hosts, 0, 2) && Fetches(hosts, 2, 0); }, absl::Seconds(30)));
  EXPECT_EQ(OverlayLinkIndex(host), index) << "the new agent made the overlay link again instead of adopting it";

  // dockerd stopped and started: its containers come back, and so does their reach across hosts.
  absl::Time restarted = absl::Now();
  ASSERT_EQ(Testbed({"docker-restart", absl::StrCat(host)}).exit_code, 0);
  EXPECT_TRUE(WaitFor([&] { return Fetches(hosts, 0, 2) && Fetches(hosts, 2, 0); }, absl::Seconds(90)))
      << "probe-2 (host" << host << ") unreachable across hosts 90 s after its dockerd restarted";
  std::printf("overlay back after a dockerd restart: %.1f s (from the stop, including the containers' restart)\n",
              absl::ToDoubleSeconds(absl::Now() - restarted));
  // The Redis stack settles again before the fault trials.
  EXPECT_TRUE(WaitFor([&] { return SentinelsSettled(Hosts()); }, absl::Seconds(90)));
}

TEST_F(RedisHaTest, LosingTheMastersHostFailsOverWithoutLosingAnAcknowledgedWrite) {
  for (int trial = 1; trial <= Trials() && !HasFatalFailure(); ++trial)
    CutOneHostUnderAWriter(Cut::kMastersHost, trial);
}

// The replica's host also holds a Sentinel: this covers losing both.
TEST_F(RedisHaTest, LosingAReplicasHostLosesNoAcknowledgedWrite) {
  for (int trial = 1; trial <= Trials() && !HasFatalFailure(); ++trial) {
    CutOneHostUnderAWriter(Cut::kAReplicasHost, trial);
  }
}

}  // namespace
}  // namespace opctl
