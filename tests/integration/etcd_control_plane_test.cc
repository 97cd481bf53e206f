// Several opctl-controller processes on one real etcd cluster (3 members, TLS): any of them serves the
// API, one leads. kill -9 of the leader under concurrent writers loses no acknowledged write, another
// leads within seconds, an agent's containers run on and a Service applied after the kill runs; a
// leader stopped (SIGSTOP) past its lease is replaced and, resumed, stands down; an etcd member killed
// under writers leaves the API serving. OPCTL_FAILOVER_TRIALS sets the kill -9 trials (3 in CI;
// scripts/soak.sh runs 20).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/object.h"
#include "opctl/v1/controller.grpc.pb.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/private_dockerd.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

using testing::CommandResult;
using testing::ControllerProcess;
using testing::EtcdCluster;
using testing::WaitFor;

int Occurrences(const std::string& text, const std::string& what) {
  int count = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++count;
  return count;
}

class EtcdControlPlaneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<std::unique_ptr<EtcdCluster>> cluster = EtcdCluster::Start(3);
    ASSERT_TRUE(cluster.ok()) << cluster.status();
    etcd_ = *std::move(cluster);
    for (int i = 0; i < 3; ++i) {
      controllers_.emplace_back();
      ASSERT_NO_FATAL_FAILURE(StartController(i, 0));
    }
    ASSERT_TRUE(WaitFor([&] { return Leader() >= 0; }, absl::Seconds(15))) << "nobody leads";
    // The metrics say the same: the leader, and only it, reports opctl_controller_leader 1.
    ASSERT_TRUE(WaitFor(
        [&] {
          int leading = 0;
          for (const auto& controller : controllers_) {
            std::string scrape = testing::Scrape(testing::MetricsAddress(controller->process().Output()));
            leading += testing::Sample(scrape, "opctl_controller_leader") == 1 ? 1 : 0;
          }
          std::string leader = testing::Scrape(testing::MetricsAddress(controllers_[Leader()]->process().Output()));
          return leading == 1 && testing::Sample(leader, "opctl_controller_leader") == 1;
        },
        absl::Seconds(15)))
        << "not exactly the leader reports opctl_controller_leader 1";
  }

  void StartController(int i, int port) {
    controllers_[i].reset();
    std::vector<std::string> flags = etcd_->ControllerFlags();
    flags.push_back("--metrics-listen=127.0.0.1:0");
    absl::StatusOr<std::unique_ptr<ControllerProcess>> started =
        ControllerProcess::Start(testing::MakeTempDir("opctl-ctl"), port, flags);
    ASSERT_TRUE(started.ok()) << started.status();
    controllers_[i] = *std::move(started);
  }

  // Whether controller i's last word on the election is that it leads.
  bool Leads(int i) {
    if (!controllers_[i] || !controllers_[i]->process().Running()) return false;
    std::string log = controllers_[i]->process().Output();
    size_t won = log.rfind("election: leading");
    if (won == std::string::npos) return false;
    for (const char* ended : {"election: no longer leading", "election: resigning"}) {
      size_t at = log.rfind(ended);
      if (at != std::string::npos && at > won) return false;
    }
    return true;
  }
  // The one leader, or -1 (none, or more than one: which the tests refuse).
  int Leader() {
    int leader = -1, count = 0;
    for (int i = 0; i < static_cast<int>(controllers_.size()); ++i) {
      if (Leads(i)) {
        leader = i;
        ++count;
      }
    }
    return count == 1 ? leader : -1;
  }
  int LeadCount() {
    int count = 0;
    for (int i = 0; i < static_cast<int>(controllers_.size()); ++i) count += Leads(i);
    return count;
  }

  std::vector<std::string> Addresses() {
    std::vector<std::string> addresses;
    for (auto& controller : controllers_) addresses.push_back(controller->address());
    return addresses;
  }

  std::unique_ptr<EtcdCluster> etcd_;
  std::vector<std::unique_ptr<ControllerProcess>> controllers_;
};

// Four clients applying pairs of Networks (one transaction each), every client with all the
// controllers' addresses, moving to the next one when a call fails.
class Writers {
 public:
  Writers(std::vector<std::string> addresses, const std::string& tag) : addresses_(std::move(addresses)) {
    for (int c = 0; c < 4; ++c) clients_.emplace_back([this, c, tag] { Write(c, tag); });
  }
  ~Writers() { Stop(); }
  void Stop() {
    stop_ = true;
    for (std::thread& client : clients_) client.join();
    clients_.clear();
  }
  size_t Acknowledged() {
    std::lock_guard<std::mutex> lock(mutex_);
    return acknowledged_.size();
  }
  // From now on, the time of the first acknowledged write is kept.
  void Mark() {
    std::lock_guard<std::mutex> lock(mutex_);
    marked_ = true;
  }
  std::optional<absl::Time> FirstAfterMark() {
    std::lock_guard<std::mutex> lock(mutex_);
    return first_after_mark_;
  }
  // Every acknowledged write is stored, at the version it was acknowledged with; no pair by halves.
  void ExpectAllStored(const std::string& address) {
    v1::ListRequest list;
    list.set_kind("Network");
    v1::ListResponse response;
    grpc::ClientContext context;
    auto stub = v1::Controller::NewStub(grpc::CreateChannel(address, testing::UserCredentials()));
    ASSERT_TRUE(stub->List(&context, list, &response).ok());
    std::map<std::string, int64_t> stored;
    for (const v1::Object& object : response.items()) stored[MetaOf(object).name()] = MetaOf(object).resource_version();
    std::lock_guard<std::mutex> lock(mutex_);
    for (const auto& [name, version] : acknowledged_) {
      ASSERT_TRUE(stored.count(name)) << name << " was acknowledged at " << version << " and lost";
      EXPECT_EQ(stored[name], version) << name;
    }
    for (const std::string& pair : pairs_) EXPECT_EQ(stored.count(pair + "-a"), stored.count(pair + "-b")) << pair;
  }

 private:
  static v1::Object Network(const std::string& name, int index) {
    v1::Object object;
    object.mutable_network()->mutable_metadata()->set_name(name);
    object.mutable_network()->mutable_spec()->set_subnet(absl::StrCat("10.", index / 250, ".", index % 250, ".0/24"));
    return object;
  }
  void Write(int c, const std::string& tag) {
    size_t at = c % addresses_.size();
    for (int i = 0; !stop_; ++i) {
      auto stub = v1::Controller::NewStub(grpc::CreateChannel(addresses_[at], testing::UserCredentials()));
      std::string pair = absl::StrCat(tag, "-c", c, "-", i);
      int index = next_index_.fetch_add(2);
      v1::ApplyRequest request;
      *request.add_objects() = Network(pair + "-a", index);
      *request.add_objects() = Network(pair + "-b", index + 1);
      {
        std::lock_guard<std::mutex> lock(mutex_);
        pairs_.insert(pair);
      }
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
      v1::ApplyResponse response;
      if (!stub->Apply(&context, request, &response).ok()) {
        at = (at + 1) % addresses_.size();
        continue;
      }
      std::lock_guard<std::mutex> lock(mutex_);
      acknowledged_[pair + "-a"] = response.results(0).resource_version();
      acknowledged_[pair + "-b"] = response.results(1).resource_version();
      if (marked_ && !first_after_mark_) first_after_mark_ = absl::Now();
    }
  }

  const std::vector<std::string> addresses_;
  std::atomic<bool> stop_{false};
  std::atomic<int> next_index_{0};
  std::mutex mutex_;
  std::map<std::string, int64_t> acknowledged_;  // network -> resourceVersion answered
  std::set<std::string> pairs_;                  // every pair sent, acknowledged or not
  bool marked_ = false;
  std::optional<absl::Time> first_after_mark_;
  std::vector<std::thread> clients_;
};

// Every running container of `dockerd` and when it started.
std::map<std::string, std::string> StartTimes(testing::PrivateDockerd& dockerd) {
  std::map<std::string, std::string> started;
  CommandResult listed = dockerd.Docker({"ps", "--format", "{{.Names}}"});
  for (absl::string_view name : absl::StrSplit(listed.out, '\n', absl::SkipEmpty())) {
    CommandResult inspected = dockerd.Docker({"inspect", "-f", "{{.State.StartedAt}}", std::string(name)});
    started[std::string(name)] = std::string(absl::StripAsciiWhitespace(inspected.out));
  }
  return started;
}

TEST_F(EtcdControlPlaneTest, KillingTheLeaderUnderWritersLosesNothingAndAnotherLeadsWithinSeconds) {
  const char* trials_env = std::getenv("OPCTL_FAILOVER_TRIALS");
  const int trials = trials_env ? std::atoi(trials_env) : 3;
  // An agent on a Docker host of the test's own, given every controller's address: what runs there
  // must run on through every kill, and what is applied after a kill must come to run.
  auto dockerd = testing::PrivateDockerd::Start("etcd-cp", "10.248.0.1/24");
  ASSERT_TRUE(dockerd.ok()) << dockerd.status();
  ASSERT_TRUE((*dockerd)->LoadImage("opctl/busybox:test").ok()) << "run scripts/build-test-image.sh";
  std::vector<std::string> argv = {testing::BinaryPath("opctl-agent"),
                                   "--controller=" + absl::StrJoin(Addresses(), ","),
                                   "--node=etcd-cp",
                                   "--docker-socket=" + (*dockerd)->socket(),
                                   "--pull=never",
                                   "--backup-dir=" + testing::MakeTempDir("opctl-etcd-cp-backups")};
  std::vector<std::string> tls = testing::AgentTlsFlags("etcd-cp");
  argv.insert(argv.end(), tls.begin(), tls.end());
  auto agent = testing::Process::Start(argv, testing::MakeTempDir("opctl-etcd-cp") + "/agent.log");
  ASSERT_TRUE(agent.ok());
  ASSERT_TRUE((*agent)->WaitForLine("following", absl::Seconds(30)).ok()) << (*agent)->Output();
  std::vector<double> to_leader, to_write, to_running;
  size_t written = 0;
  for (int trial = 0; trial < trials; ++trial) {
    std::map<std::string, std::string> running = StartTimes(**dockerd);
    int leader = Leader();
    ASSERT_GE(leader, 0) << "not exactly one leader before trial " << trial;
    Writers writers(Addresses(), absl::StrCat("t", trial));
    ASSERT_TRUE(WaitFor([&] { return writers.Acknowledged() >= 40; }, absl::Seconds(30)));
    std::vector<int> wins(controllers_.size());
    for (size_t i = 0; i < controllers_.size(); ++i)
      wins[i] = Occurrences(controllers_[i]->process().Output(), "election: leading");
    int port = controllers_[leader]->port();
    absl::Time killed_at = absl::Now();
    writers.Mark();
    controllers_[leader]->process().Signal(SIGKILL);
    controllers_[leader]->process().Wait();
    int successor = -1;
    ASSERT_TRUE(WaitFor(
        [&] {
          for (size_t i = 0; i < controllers_.size(); ++i) {
            if (static_cast<int>(i) != leader &&
                Occurrences(controllers_[i]->process().Output(), "election: leading") > wins[i]) {
              successor = static_cast<int>(i);
              return true;
            }
          }
          return false;
        },
        absl::Seconds(15)))
        << "no controller took over within 15 s of the leader's kill -9";
    to_leader.push_back(absl::ToDoubleSeconds(absl::Now() - killed_at));
    ASSERT_TRUE(WaitFor([&] { return writers.FirstAfterMark().has_value(); }, absl::Seconds(15)));
    to_write.push_back(absl::ToDoubleSeconds(*writers.FirstAfterMark() - killed_at));
    writers.Stop();
    EXPECT_EQ(Leader(), successor);
    // A Service applied after the kill: the new leader's controllers create and place it, the agent runs it.
    std::string service = absl::StrCat("after-kill-", trial);
    CommandResult applied = controllers_[successor]->Opctl(
        {"apply", "-f", "-"}, absl::StrCat("apiVersion: opctl.io/v1\nkind: Service\nmetadata: {name: ", service,
                                           "}\nspec:\n  replicas: 1\n  template: {image: opctl/busybox:test}\n"));
    ASSERT_EQ(applied.exit_code, 0) << applied.err;
    ASSERT_TRUE(WaitFor([&] { return StartTimes(**dockerd).count(service + "-0") > 0; }, absl::Seconds(30)))
        << service << " applied after the kill does not run:\n"
        << (*agent)->Output();
    to_running.push_back(absl::ToDoubleSeconds(absl::Now() - killed_at));
    std::map<std::string, std::string> now = StartTimes(**dockerd);
    for (const auto& [name, started] : running) {
      EXPECT_EQ(now[name], started) << name << " was stopped or started again across the kill of the leader";
    }
    ASSERT_NO_FATAL_FAILURE(StartController(leader, port));  // back as a follower
    ASSERT_NO_FATAL_FAILURE(writers.ExpectAllStored(controllers_[leader]->address()));
    written += writers.Acknowledged();
  }
  auto worst = [](const std::vector<double>& values) { return *std::max_element(values.begin(), values.end()); };
  std::printf(
      "kill -9 of the leading controller, %d trials, 4 writers on 3 controllers: %zu networks acknowledged, none "
      "lost or halved; a new leader after at most %.2f s, the first acknowledged write after at most %.2f s, a "
      "Service applied after the kill running after at most %.2f s; no container stopped or started twice\n",
      trials, written, worst(to_leader), worst(to_write), worst(to_running));
}

TEST_F(EtcdControlPlaneTest, AnEtcdMemberKilledUnderWritersLeavesTheApiServingAndCatchesUpWhenBack) {
  Writers writers(Addresses(), "member");
  ASSERT_TRUE(WaitFor([&] { return writers.Acknowledged() >= 40; }, absl::Seconds(30)));
  ASSERT_TRUE(testing::Ok(etcd_->Kill(1)));
  size_t at_kill = writers.Acknowledged();
  EXPECT_TRUE(WaitFor([&] { return writers.Acknowledged() >= at_kill + 100; }, absl::Seconds(30)))
      << "the API stopped taking writes when an etcd member died";
  ASSERT_TRUE(testing::Ok(etcd_->Restart(1)));
  size_t at_restart = writers.Acknowledged();
  ASSERT_TRUE(WaitFor([&] { return writers.Acknowledged() >= at_restart + 40; }, absl::Seconds(30)));
  writers.Stop();
  ASSERT_NO_FATAL_FAILURE(writers.ExpectAllStored(controllers_[0]->address()));
  // The member that came back has caught up: a controller reading from it alone sees every write.
  std::vector<std::string> only_member_1 = etcd_->ControllerFlags();
  for (std::string& flag : only_member_1) {
    if (absl::StartsWith(flag, "--etcd_endpoints=")) flag = "--etcd_endpoints=" + etcd_->Endpoint(1);
  }
  absl::StatusOr<std::unique_ptr<ControllerProcess>> reader =
      ControllerProcess::Start(testing::MakeTempDir("opctl-ctl"), 0, only_member_1);
  ASSERT_TRUE(reader.ok()) << reader.status();
  ASSERT_NO_FATAL_FAILURE(writers.ExpectAllStored((*reader)->address()));
  std::printf(
      "etcd member 1 killed under 4 writers on 3 controllers: %zu networks acknowledged (%zu after the kill), "
      "none lost; the member back has them all\n",
      writers.Acknowledged(), writers.Acknowledged() - at_kill);
}

TEST_F(EtcdControlPlaneTest, ALeaderStoppedPastItsLeaseIsReplacedAndStandsDownWhenResumed) {
  int old = Leader();
  ASSERT_GE(old, 0);
  controllers_[old]->process().Signal(SIGSTOP);
  absl::Time stopped = absl::Now();
  ASSERT_TRUE(WaitFor(
      [&] {
        for (int i = 0; i < 3; ++i)
          if (i != old && Leads(i)) return true;
        return false;
      },
      absl::Seconds(15)))
      << "nobody took over from the stopped leader";
  std::printf("a leader stopped with SIGSTOP was replaced after %.2f s\n",
              absl::ToDoubleSeconds(absl::Now() - stopped));
  controllers_[old]->process().Signal(SIGCONT);
  ASSERT_TRUE(WaitFor([&] { return !Leads(old); }, absl::Seconds(10)))
      << "the resumed old leader still believes it leads:\n"
      << controllers_[old]->process().Output();
  EXPECT_EQ(LeadCount(), 1);
  // It serves the API again, as a follower, and names the leader.
  CommandResult get = controllers_[old]->Opctl({"get", "networks"});
  EXPECT_EQ(get.exit_code, 0) << get.err;
  int leader = Leader();
  ASSERT_GE(leader, 0);
  CommandResult listed;
  EXPECT_TRUE(WaitFor(
      [&] {
        listed = controllers_[old]->Opctl({"get", "controllers"});
        int rows = 0, leaders = 0;
        bool leader_marked = false;
        for (absl::string_view line : absl::StrSplit(listed.out, '\n')) {
          if (!absl::StartsWith(line, "127.0.0.1:")) continue;
          ++rows;
          bool marked = absl::StrContains(line, " yes ");
          leaders += marked;
          leader_marked |= marked && absl::StartsWith(line, controllers_[leader]->address() + " ");
        }
        return listed.exit_code == 0 && rows == 3 && leaders == 1 && leader_marked;
      },
      absl::Seconds(10)))
      << listed.out << listed.err;
}

}  // namespace
}  // namespace opctl
