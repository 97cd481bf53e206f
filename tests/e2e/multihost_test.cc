// Many Docker hosts for real: scripts/testbed.sh brings up three dockerds, each in its own network
// namespace behind a veth on a bridge, with an opctl-agent inside; the controller listens on the
// bridge. Covers spreading, node selectors, capacity, an agent killed with kill -9, a host whose link
// is cut, drain, and a stateful container that stays with its node. A watcher thread samples every
// host's running containers throughout and counts any replica running on two hosts at once.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "agent/container_spec.h"
#include "agent/curl_docker_client.h"
#include "common/clock.h"
#include "tests/support/process.h"
#include "tests/support/testbed.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::Testbed;
using testing::WaitFor;

constexpr int kHosts = 3;
constexpr const char* kBridgeAddress = testing::kTestbedBridgeAddress;
constexpr int kControllerPort = 7193;
constexpr int kTrials = 3;
constexpr char kStoreTmpfsSize[] = "256m";
// How long the control plane's own faults last: a stopped controller, a full disk.
constexpr absl::Duration kControllerFault = absl::Seconds(10);

// Names of the containers running on host i, straight from its dockerd's API (a few milliseconds,
// so the duplicate watcher samples often).
std::set<std::string> RunningOn(int i) {
  // One client per host for the whole run (thread-safe, as the agent's workers share one).
  static agent::CurlDockerClient* clients[kHosts + 1] = {};
  static std::once_flag made;
  std::call_once(made, [] {
    for (int host = 1; host <= kHosts; ++host) {
      clients[host] = new agent::CurlDockerClient(absl::StrCat("/run/opctl-testbed/host", host, "/docker.sock"));
    }
  });
  std::set<std::string> names;
  absl::StatusOr<std::vector<agent::DockerContainer>> containers =
      clients[i]->ListContainers({{agent::kManagedByLabel, agent::kManagedByValue}});
  for (const agent::DockerContainer& container : containers.value_or(std::vector<agent::DockerContainer>{})) {
    if (container.state == "running") names.insert(container.name);
  }
  return names;
}

// Every running managed container of every host: "hostI/NAME" -> its Docker id.
std::map<std::string, std::string> AllRunning() {
  std::map<std::string, std::string> running;
  for (int i = 1; i <= kHosts; ++i) {
    agent::CurlDockerClient client(absl::StrCat("/run/opctl-testbed/host", i, "/docker.sock"));
    absl::StatusOr<std::vector<agent::DockerContainer>> containers =
        client.ListContainers({{agent::kManagedByLabel, agent::kManagedByValue}});
    for (const agent::DockerContainer& container : containers.value_or(std::vector<agent::DockerContainer>{})) {
      if (container.state == "running") running[absl::StrCat("host", i, "/", container.name)] = container.id;
    }
  }
  return running;
}

double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values.empty() ? 0 : values[values.size() / 2];
}

class MultiHostTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    CommandResult up = Testbed({"up", absl::StrCat(kHosts), "--controller",
                                absl::StrCat(kBridgeAddress, ":", kControllerPort), "--certs", testing::TestTls().dir});
    ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
    std::printf("testbed: %s", up.out.c_str());
    data_dir_ = new std::string(testing::MakeTempDir("opctl-e2e-multihost"));
    // The store on a tmpfs of its own, in a mount namespace of the controller's (gone with it), so
    // that a test can fill its disk.
    std::vector<std::string> on_tmpfs = {
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        absl::StrCat("mount -t tmpfs -o size=", kStoreTmpfsSize, " opctl-multihost ", *data_dir_, " && exec \"$@\""),
        "sh"};
    auto controller = testing::ControllerProcess::Start(*data_dir_, kControllerPort, {}, kBridgeAddress, on_tmpfs);
    ASSERT_TRUE(controller.ok()) << controller.status();
    controller_ = controller->release();
    ASSERT_TRUE(WaitFor([] { return ReadyNodes() == kHosts; }, absl::Seconds(30))) << Opctl({"get", "nodes"}).out;
    watcher_ = new std::thread(WatchForDuplicates);
  }

  static void TearDownTestSuite() {
    stop_watching_ = true;
    if (watcher_ != nullptr) watcher_->join();
    delete watcher_;
    CommandResult down = Testbed({"down"});
    EXPECT_EQ(down.exit_code, 0) << down.err;
    delete controller_;
  }

  static CommandResult Opctl(const std::vector<std::string>& arguments) { return controller_->Opctl(arguments); }

  static nlohmann::json Get(const std::string& kind, const std::string& name) {
    CommandResult result = Opctl({"get", kind, name, "-o", "json"});
    if (result.exit_code != 0) return nullptr;
    return nlohmann::json::parse(result.out, nullptr, false);
  }

  static int ReadyNodes() {
    CommandResult result = Opctl({"get", "nodes"});
    int ready = 0;
    for (absl::string_view line : absl::StrSplit(result.out, '\n')) {
      std::vector<std::string> cells = absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (cells.size() > 1 && cells[1] == "Ready") ++ready;
    }
    return ready;
  }

  static std::string NodeStatus(const std::string& node) {
    nlohmann::json object = Get("node", node);
    if (object.is_null()) return "";
    for (const auto& condition : object["status"]["conditions"]) {
      if (condition["type"] == "Ready") return condition["status"];
    }
    return "";
  }

  static std::string NodeOf(const std::string& container) {
    nlohmann::json object = Get("container", container);
    return object.is_null() ? "" : object["spec"].value("nodeName", "");
  }

  // Bound to a node other than `not_on` and running there.
  static bool RunsElsewhere(const std::string& container, const std::string& not_on) {
    nlohmann::json object = Get("container", container);
    if (object.is_null()) return false;
    std::string node = object["spec"].value("nodeName", "");
    return !node.empty() && node != not_on && object["status"].value("phase", "") == "Running";
  }

  static void Apply(const std::string& yaml) {
    CommandResult applied = testing::RunCommand({testing::BinaryPath("opctl"), "--server=" + controller_->address(),
                                                 "apply", "-f", "-", "--wait", "--timeout", "60s"},
                                                yaml);
    ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  }

  // Samples every host continuously; a name running on two hosts in one sample is a duplicate.
  static void WatchForDuplicates() {
    while (!stop_watching_) {
      std::map<std::string, std::vector<int>> hosts_of;
      for (int i = 1; i <= kHosts; ++i) {
        for (const std::string& name : RunningOn(i)) hosts_of[name].push_back(i);
      }
      std::lock_guard<std::mutex> lock(duplicates_mutex_);
      ++samples_;
      for (const auto& [name, hosts] : hosts_of) {
        if (hosts.size() > 1) duplicates_.push_back(absl::StrCat(name, " on hosts ", absl::StrJoin(hosts, ",")));
      }
      // A sample every 20 ms: far finer than the 1.75 s between the fence and a replacement, and
      // without taking the CPU the dockerds need.
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }

  static std::vector<std::string> TakeDuplicates(int* samples = nullptr) {
    std::lock_guard<std::mutex> lock(duplicates_mutex_);
    if (samples) *samples = samples_;
    samples_ = 0;
    return std::exchange(duplicates_, {});
  }

  static int HostIndex(const std::string& node) { return std::stoi(node.substr(4)); }

  // Each agent's last word on its peers names all the other hosts.
  static bool EveryAgentKnowsItsPeers() {
    for (int host = 1; host <= kHosts; ++host) {
      std::ifstream log(testing::TestbedAgentLog(host));
      std::string line, last;
      while (std::getline(log, line)) {
        if (absl::StrContains(line, "agent: peers: ")) last = line;
      }
      if (!absl::StrContains(last, absl::StrCat("peers: ", kHosts - 1, " other node(s)"))) return false;
    }
    return true;
  }

  // Holds a fault of the control plane's (`begin` to `end`) for kControllerFault, sampling every host
  // throughout: no container may stop or be replaced, no binding may change, every node stays Ready.
  static void ControllerFaultChangesNothing(const std::string& what, const std::function<void()>& begin,
                                            const std::function<void()>& end) {
    ASSERT_EQ(ReadyNodes(), kHosts);
    // An agent holds its fence only on its peers' word: each must know them before the fault.
    ASSERT_TRUE(WaitFor([] { return EveryAgentKnowsItsPeers(); }, absl::Seconds(30)));
    std::map<std::string, std::string> before = AllRunning();
    ASSERT_GE(before.size(), 3u) << "web-0..2 run";
    std::map<std::string, std::pair<std::string, int64_t>> bindings;
    for (int ordinal = 0; ordinal < 3; ++ordinal) {
      std::string name = absl::StrCat("web-", ordinal);
      nlohmann::json container = Get("container", name);
      ASSERT_FALSE(container.is_null());
      bindings[name] = {container["spec"].value("nodeName", ""),
                        std::stoll(container["spec"].value("bindingGeneration", "0"))};
    }
    begin();
    absl::Time until = absl::Now() + kControllerFault;
    int samples = 0;
    std::set<std::string> stopped;
    while (absl::Now() < until) {
      std::map<std::string, std::string> now = AllRunning();
      for (const auto& [where, id] : before) {
        auto found = now.find(where);
        if (found == now.end() || found->second != id) stopped.insert(where);
      }
      ++samples;
      // Sampling, not waiting on anything: the fault lasts its time whatever happens.
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    end();
    EXPECT_TRUE(WaitFor([] { return ReadyNodes() == kHosts; }, absl::Seconds(30))) << Opctl({"get", "nodes"}).out;
    EXPECT_THAT(stopped, ::testing::IsEmpty()) << what << ": containers stopped or replaced";
    EXPECT_EQ(AllRunning(), before) << what;
    for (const auto& [name, binding] : bindings) {
      nlohmann::json container = Get("container", name);
      EXPECT_EQ(container["spec"].value("nodeName", ""), binding.first) << name << " moved";
      EXPECT_EQ(std::stoll(container["spec"].value("bindingGeneration", "0")), binding.second) << name;
    }
    for (int i = 1; i <= kHosts; ++i) {
      const nlohmann::json node = Get("node", absl::StrCat("host", i));  // not a temporary in the range-for
      for (const auto& condition : node["status"]["conditions"]) {
        if (condition["type"] == "Ready") EXPECT_NE(condition.value("reason", ""), "NodeStatusUnknown");
      }
    }
    std::printf("%s for %s: %zu containers on %d hosts, %zu stopped or replaced, %d samples\n", what.c_str(),
                absl::FormatDuration(kControllerFault).c_str(), before.size(), kHosts, stopped.size(), samples);
  }

  // Cuts `web-0`'s host off (`cut` runs it), measures how long until the controller marks the node
  // NotReady and until web-0 runs elsewhere, restores it (`restore`), and checks the host keeps no
  // copy of web-0. The node's Ready condition must give `reason`. Returns {detection, rescheduling} in
  // seconds.
  static std::pair<double, double> LoseHost(const std::string& cut, const std::string& restore,
                                            const std::string& reason, const std::string& victim_node) {
    absl::Time start = absl::Now();
    const std::string host = absl::StrCat(HostIndex(victim_node));
    CommandResult result = Testbed({cut, host});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(WaitFor([&] { return NodeStatus(victim_node) == "False" && RunsElsewhere("web-0", victim_node); },
                        absl::Seconds(30), absl::Milliseconds(250)))
        << Opctl({"get", "containers", "-o", "wide"}).out;
    // Timed by the objects themselves, not by this loop's polling (kept slow, so that the opctl
    // processes it starts do not take the CPU Docker needs to start the replacement): when the node's
    // Ready condition turned False, and when Docker started web-0's new container.
    double detected = -1, moved = -1;
    const nlohmann::json node = Get("node", victim_node);  // not a temporary in the range-for
    for (const auto& condition : node["status"]["conditions"]) {
      if (condition["type"] == "Ready") {
        EXPECT_EQ(condition.value("reason", ""), reason) << condition.dump();
        detected = absl::ToDoubleSeconds(ParseTimestamp(condition.value("lastTransitionTime", "")) - start);
      }
    }
    moved = absl::ToDoubleSeconds(ParseTimestamp(Get("container", "web-0")["status"].value("startedAt", "")) - start);
    EXPECT_GT(detected, 0);
    EXPECT_GT(moved, detected);
    result = Testbed({restore, host});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    EXPECT_TRUE(WaitFor([&] { return NodeStatus(victim_node) == "True"; }, absl::Seconds(30)));
    // The returning host removes the copy that moved away and keeps none.
    EXPECT_TRUE(WaitFor([&] { return RunningOn(HostIndex(victim_node)).count("web-0") == 0; }, absl::Seconds(30)));
    EXPECT_NE(NodeOf("web-0"), victim_node);
    return {detected, moved};
  }

  // kTrials losses of web-0's host; reports the times, and checks no sample saw a replica twice.
  static void LoseHostRepeatedly(const std::string& what, const std::string& cut, const std::string& restore,
                                 const std::string& reason) {
    TakeDuplicates();
    std::vector<std::pair<double, double>> trials;
    for (int trial = 0; trial < kTrials; ++trial) trials.push_back(LoseHost(cut, restore, reason, NodeOf("web-0")));
    ReportTrials(what, trials);
    int samples = 0;
    std::vector<std::string> duplicates = TakeDuplicates(&samples);
    EXPECT_GT(samples, 20);
    EXPECT_THAT(duplicates, ::testing::IsEmpty()) << "sampled " << samples << " times";
    std::printf("%s: no replica on two hosts in %d samples of all hosts\n", what.c_str(), samples);
  }

  static void ReportTrials(const std::string& what, const std::vector<std::pair<double, double>>& trials) {
    std::vector<double> detection, rescheduling;
    for (const auto& [detected, moved] : trials) {
      detection.push_back(detected);
      rescheduling.push_back(moved);
    }
    std::printf(
        "%s over %zu trials: NotReady after %.2f s median, %.2f s worst; running elsewhere after %.2f s "
        "median, %.2f s worst (both from the cut)\n",
        what.c_str(), trials.size(), Median(detection), *std::max_element(detection.begin(), detection.end()),
        Median(rescheduling), *std::max_element(rescheduling.begin(), rescheduling.end()));
  }

  static testing::ControllerProcess* controller_;
  static std::string* data_dir_;
  static std::thread* watcher_;
  static std::atomic<bool> stop_watching_;
  static std::mutex duplicates_mutex_;
  static std::vector<std::string> duplicates_;
  static int samples_;
};

testing::ControllerProcess* MultiHostTest::controller_ = nullptr;
std::string* MultiHostTest::data_dir_ = nullptr;
std::thread* MultiHostTest::watcher_ = nullptr;
std::atomic<bool> MultiHostTest::stop_watching_{false};
std::mutex MultiHostTest::duplicates_mutex_;
std::vector<std::string> MultiHostTest::duplicates_;
int MultiHostTest::samples_ = 0;

constexpr char kWeb[] = R"(apiVersion: opctl.io/v1
kind: Service
metadata: {name: web, stack: multihost}
spec:
  replicas: 3
  template:
    image: opctl/busybox:test
    command: [sleep, infinity]
)";

TEST_F(MultiHostTest, ReplicasSpreadOverHosts) {
  Apply(kWeb);
  std::set<std::string> nodes;
  for (int ordinal = 0; ordinal < 3; ++ordinal) nodes.insert(NodeOf(absl::StrCat("web-", ordinal)));
  EXPECT_EQ(nodes.size(), 3u) << Opctl({"get", "containers"}).out;
  for (int i = 1; i <= kHosts; ++i) {
    std::set<std::string> running = RunningOn(i);
    EXPECT_EQ(std::count_if(running.begin(), running.end(),
                            [](const std::string& name) { return name.rfind("web-", 0) == 0; }),
              1)
        << "host" << i;
  }
}

// The audit's H4, first half: a controller that stops answering (SIGSTOP: paused, swapped out, or
// starved) is the control plane's trouble. Every agent loses it at once, asks its peers, finds most
// nodes in the same state and holds its fence; the controller, back, sees that it was paused and
// gives every node a fresh grace. Nothing stops, nothing moves.
TEST_F(MultiHostTest, AStoppedControllerStopsAndMovesNothing) {
  ControllerFaultChangesNothing(
      "controller stopped (SIGSTOP)", [] { controller_->process().Signal(SIGSTOP); },
      [] { controller_->process().Signal(SIGCONT); });
}

// The second half: a full disk. Heartbeats are answered from memory, so leases hold; the writes that
// fail are the controller's, and the nodes stay Ready.
TEST_F(MultiHostTest, AFullControllerDiskStopsAndMovesNothing) {
  const std::string pid = absl::StrCat(controller_->process().pid());
  const std::string filler = *data_dir_ + "/filler";
  ControllerFaultChangesNothing(
      "controller disk full",
      [&] {
        testing::RunCommand({"nsenter", "-t", pid, "-m", "--", "sh", "-c", "cat /dev/zero > " + filler});
        // Writes fail now: the disk is really full.
        CommandResult refused = testing::RunCommand(
            {testing::BinaryPath("opctl"), "--server=" + controller_->address(), "apply", "-f", "-"},
            "apiVersion: opctl.io/v1\nkind: Network\nmetadata: {name: full}\nspec: {subnet: 10.249.0.0/24}\n");
        EXPECT_NE(refused.exit_code, 0);
        EXPECT_THAT(refused.err, HasSubstr("disk full"));
      },
      [&] {
        ASSERT_EQ(testing::RunCommand({"nsenter", "-t", pid, "-m", "--", "rm", "-f", filler}).exit_code, 0);
        // And writes work again.
        EXPECT_TRUE(WaitFor([] { return Opctl({"cordon", "node/host1"}).exit_code == 0; }, absl::Seconds(30)));
        EXPECT_EQ(Opctl({"uncordon", "node/host1"}).exit_code, 0);
      });
}

TEST_F(MultiHostTest, NodeSelectorPinsReplicas) {
  Apply(R"(apiVersion: opctl.io/v1
kind: Service
metadata: {name: pinned, stack: multihost}
spec:
  replicas: 2
  nodeSelector: {zone: z3}
  template:
    image: opctl/busybox:test
    command: [sleep, infinity]
)");
  EXPECT_EQ(NodeOf("pinned-0"), "host3");
  EXPECT_EQ(NodeOf("pinned-1"), "host3");
  EXPECT_EQ(Opctl({"delete", "service/pinned"}).exit_code, 0);
}

TEST_F(MultiHostTest, MemoryReservationsLimitWhatFits) {
  // Protobuf's JSON writes 64-bit integers as strings.
  nlohmann::json memory = Get("node", "host1")["status"]["capacity"]["memoryBytes"];
  ASSERT_TRUE(memory.is_string()) << memory;
  int64_t capacity = std::stoll(memory.get<std::string>());
  ASSERT_GT(capacity, 0);
  // 40% of a node each: two fit on a node, three do not, so three hosts take six of seven.
  std::string reservation = absl::StrCat((capacity * 2 / 5) >> 20, "m");
  CommandResult applied =
      testing::RunCommand({testing::BinaryPath("opctl"), "--server=" + controller_->address(), "apply", "-f", "-"},
                          absl::StrCat(R"(apiVersion: opctl.io/v1
kind: Service
metadata: {name: big, stack: multihost}
spec:
  replicas: 7
  template:
    image: opctl/busybox:test
    command: [sleep, infinity]
    resources: {memoryReservation: )",
                                       reservation, "}\n"));
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  std::string pending;
  ASSERT_TRUE(WaitFor(
      [&] {
        int bound = 0;
        pending.clear();
        for (int ordinal = 0; ordinal < 7; ++ordinal) {
          nlohmann::json container = Get("container", absl::StrCat("big-", ordinal));
          if (container.is_null()) return false;
          if (!container["spec"].value("nodeName", "").empty()) {
            ++bound;
          } else {
            for (const auto& condition : container["status"]["conditions"]) {
              if (condition["type"] == "Scheduled") pending = condition.value("message", "");
            }
          }
        }
        return bound == 6 && !pending.empty();
      },
      absl::Seconds(30)))
      << Opctl({"get", "containers"}).out;
  EXPECT_THAT(pending, HasSubstr("3 short of memory"));
  CommandResult wide = Opctl({"get", "nodes", "-o", "wide"});
  EXPECT_THAT(wide.out, HasSubstr("ALLOCATED"));
  EXPECT_THAT(wide.out, HasSubstr("CONTAINERS"));
  EXPECT_THAT(wide.out, HasSubstr("%)"));
  std::printf("%s", wide.out.c_str());
  CommandResult deleted = Opctl({"delete", "service/big"});
  EXPECT_EQ(deleted.exit_code, 0) << deleted.out << deleted.err;
}

// The dead agent's fence guard removes the old copy before the controller starts the new one.
TEST_F(MultiHostTest, AgentKilledWithKill9NeverRunsAReplicaTwice) {
  // The host lives on, so the agent's fence guard removes web-0 and reports the agent gone.
  LoseHostRepeatedly("agent kill -9", "agent-kill", "agent-start", "AgentStopped");
}

// The cut-off agent's lease lapses and it removes the old copy itself.
TEST_F(MultiHostTest, LinkCutNeverRunsAReplicaTwice) {
  // Nothing reaches the controller from the host: it goes by silence, then waits the settle time.
  LoseHostRepeatedly("link cut", "link-down", "link-up", "NodeStatusUnknown");
}

TEST_F(MultiHostTest, DrainMovesEverythingThatMayMove) {
  std::string node = NodeOf("web-1");
  CommandResult drained = Opctl({"drain", "node/" + node, "--timeout", "60s"});
  ASSERT_EQ(drained.exit_code, 0) << drained.out << drained.err;
  std::printf("%s", drained.out.c_str());
  EXPECT_THAT(drained.out, HasSubstr("container/web-1 moved to node"));
  for (int ordinal = 0; ordinal < 3; ++ordinal) EXPECT_NE(NodeOf(absl::StrCat("web-", ordinal)), node);
  EXPECT_TRUE(WaitFor([&] { return RunningOn(HostIndex(node)).empty(); }, absl::Seconds(30)));
  EXPECT_THAT(Opctl({"get", "nodes"}).out, HasSubstr("SchedulingDisabled"));
  EXPECT_EQ(Opctl({"uncordon", "node/" + node}).exit_code, 0);
  EXPECT_THAT(TakeDuplicates(), ::testing::IsEmpty());
}

TEST_F(MultiHostTest, AContainerWithAVolumeStaysWithItsNode) {
  Apply(R"(apiVersion: opctl.io/v1
kind: Service
metadata: {name: db, stack: multihost}
spec:
  replicas: 1
  nodeSelector: {zone: z2}
  volumeTemplates: [{name: data, mountPath: /data}]
  template:
    image: opctl/busybox:test
    command: [sleep, infinity]
)");
  ASSERT_EQ(NodeOf("db-0"), "host2");
  CommandResult drained = Opctl({"drain", "node/host2", "--timeout", "60s"});
  EXPECT_EQ(drained.exit_code, 0) << drained.err;
  EXPECT_THAT(drained.out, HasSubstr("container/db-0 stays on node host2, where its volumes are"));
  EXPECT_EQ(Opctl({"uncordon", "node/host2"}).exit_code, 0);

  ASSERT_EQ(Testbed({"link-down", "2"}).exit_code, 0);
  std::string message;
  EXPECT_TRUE(WaitFor(
      [&] {
        nlohmann::json container = Get("container", "db-0");
        if (container.is_null() || container["status"].value("phase", "") != "Unknown") return false;
        for (const auto& condition : container["status"]["conditions"]) {
          if (condition["type"] == "Scheduled") message = condition.value("message", "");
        }
        return true;
      },
      absl::Seconds(30)));
  EXPECT_THAT(message, HasSubstr("stays bound there, where its volumes are"));
  EXPECT_EQ(NodeOf("db-0"), "host2");
  // Its data's host keeps running it: nothing else would.
  EXPECT_EQ(RunningOn(2).count("db-0"), 1u);
  ASSERT_EQ(Testbed({"link-up", "2"}).exit_code, 0);
  EXPECT_TRUE(
      WaitFor([] { return Get("container", "db-0")["status"].value("phase", "") == "Running"; }, absl::Seconds(30)));
}

}  // namespace
}  // namespace opctl
