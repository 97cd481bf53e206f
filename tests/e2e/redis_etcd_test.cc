// The Redis stack on the etcd control plane (what OPCTL_STORE=etcd scripts/up.sh runs): three etcd
// members, three controllers, one agent that knows all three, on a Docker host of the test's own.
// The leading controller is killed with kill -9, then a replica is removed behind opctl's back: it
// comes back, the new leader scales the stack, and no other container was stopped or started. Then
// etcd loses its quorum: reads and writes say so, and every container keeps running through it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/private_dockerd.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

using testing::CommandResult;
using testing::ControllerProcess;
using testing::WaitFor;

class RedisOnEtcdTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dockerd = testing::PrivateDockerd::Start("redis-etcd", "10.250.0.1/24");
    ASSERT_TRUE(dockerd.ok()) << dockerd.status();
    dockerd_ = *std::move(dockerd);
    for (const char* image :
         {"opctl/redis-master:7.0", "opctl/redis-replica:7.0", "opctl/redis-sentinel:7.0", "opctl/toolbox:0.1"}) {
      ASSERT_TRUE(dockerd_->LoadImage(image).ok()) << image << " missing: run scripts/build-images.sh";
    }
    auto etcd = testing::EtcdCluster::Start(3);
    ASSERT_TRUE(etcd.ok()) << etcd.status();
    etcd_ = *std::move(etcd);
    std::vector<std::string> addresses;
    for (int i = 0; i < 3; ++i) {
      auto controller = ControllerProcess::Start(testing::MakeTempDir("opctl-e2e-ctl"), 0, etcd_->ControllerFlags());
      ASSERT_TRUE(controller.ok()) << controller.status();
      addresses.push_back((*controller)->address());
      controllers_.push_back(*std::move(controller));
    }
    data_dir_ = testing::MakeTempDir("opctl-e2e-redis-etcd");
    std::vector<std::string> argv = {testing::BinaryPath("opctl-agent"),
                                     "--controller=" + absl::StrJoin(addresses, ","),
                                     "--node=e2e-redis-etcd",
                                     "--docker-socket=" + dockerd_->socket(),
                                     "--pull=never",
                                     "--backup-dir=" + data_dir_ + "/backups"};
    std::vector<std::string> tls = testing::AgentTlsFlags("e2e-redis-etcd");
    argv.insert(argv.end(), tls.begin(), tls.end());
    auto agent = testing::Process::Start(argv, data_dir_ + "/agent.log");
    ASSERT_TRUE(agent.ok());
    agent_ = *std::move(agent);
  }

  int Leader() {
    for (int i = 0; i < 3; ++i) {
      if (controllers_[i]->process().Running() &&
          absl::StrContains(controllers_[i]->process().Output(), "election: leading"))
        return i;
    }
    return -1;
  }
  // Every running container's name and start time.
  std::map<std::string, std::string> Started() {
    std::map<std::string, std::string> started;
    CommandResult ids = dockerd_->Docker({"ps", "-q"});
    for (absl::string_view id : absl::StrSplit(ids.out, '\n', absl::SkipEmpty())) {
      CommandResult inspected = dockerd_->Docker({"inspect", "-f", "{{.Name}} {{.State.StartedAt}}", std::string(id)});
      std::vector<std::string> fields = absl::StrSplit(absl::StripAsciiWhitespace(inspected.out), ' ');
      if (fields.size() == 2) started[fields[0].substr(1)] = fields[1];
    }
    return started;
  }
  bool FollowsAMaster(const std::string& replica) {
    CommandResult info = dockerd_->Docker({"exec", replica, "redis-cli", "INFO", "replication"});
    return absl::StrContains(info.out, "master_link_status:up");
  }

  std::unique_ptr<testing::PrivateDockerd> dockerd_;
  std::unique_ptr<testing::EtcdCluster> etcd_;
  std::vector<std::unique_ptr<ControllerProcess>> controllers_;
  std::unique_ptr<testing::Process> agent_;
  std::string data_dir_;
};

TEST_F(RedisOnEtcdTest, TheStackOutlivesItsLeadingControllerAndEtcdsQuorum) {
  CommandResult applied = controllers_[0]->Opctl(
      {"apply", "-f", testing::SourcePath("manifests/redis.yaml"), "--wait", "--timeout", "120s"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err << agent_->Output();
  ASSERT_TRUE(WaitFor([&] { return FollowsAMaster("redis-replica-0") && FollowsAMaster("redis-replica-1"); },
                      absl::Seconds(60)));
  int leader = Leader();
  ASSERT_GE(leader, 0);
  std::map<std::string, std::string> before = Started();
  ASSERT_EQ(before.size(), 6u);

  absl::Time killed = absl::Now();
  controllers_[leader]->process().Signal(SIGKILL);
  controllers_[leader]->process().Wait();
  int survivor = (leader + 1) % 3;
  ASSERT_TRUE(WaitFor([&] { return Leader() >= 0; }, absl::Seconds(15))) << "no new leader";
  double to_leader = absl::ToDoubleSeconds(absl::Now() - killed);

  // Behind opctl's back: the agent, now on another controller, puts it back.
  ASSERT_EQ(dockerd_->Docker({"rm", "-f", "redis-replica-1"}).exit_code, 0);
  absl::Time removed = absl::Now();
  ASSERT_TRUE(WaitFor([&] { return FollowsAMaster("redis-replica-1"); }, absl::Seconds(60)))
      << "redis-replica-1 was not healed:\n"
      << agent_->Output();
  double to_heal = absl::ToDoubleSeconds(absl::Now() - removed);

  // A change after the kill: the new leader's service controller and scheduler place the new replica.
  CommandResult scaled = controllers_[survivor]->Opctl({"scale", "service/redis-replica", "--replicas", "3"});
  ASSERT_EQ(scaled.exit_code, 0) << scaled.err;
  EXPECT_TRUE(WaitFor([&] { return FollowsAMaster("redis-replica-2"); }, absl::Seconds(60)))
      << "the replica added after the failover does not run:\n"
      << agent_->Output();

  std::map<std::string, std::string> after = Started();
  for (const auto& [name, started] : before) {
    if (name == "redis-replica-1") continue;
    EXPECT_EQ(after[name], started) << name << " was stopped or restarted across the controller failover";
  }
  std::printf(
      "leading controller killed: a new leader after %.2f s; a removed replica following its master again "
      "%.2f s after docker rm -f; no other container restarted\n",
      to_leader, to_heal);

  // etcd without its quorum: two members of three gone.
  ASSERT_TRUE(WaitFor([&] { return FollowsAMaster("redis-replica-2"); }, absl::Seconds(30)));
  std::map<std::string, std::string> running = Started();
  ASSERT_TRUE(testing::Ok(etcd_->Kill(2)));
  ASSERT_TRUE(testing::Ok(etcd_->Kill(3)));
  CommandResult read;
  ASSERT_TRUE(WaitFor(
      [&] {
        read = controllers_[survivor]->Opctl({"get", "services"});
        return read.exit_code != 0;
      },
      absl::Seconds(20)))
      << "reads went on as if current without etcd's quorum:\n"
      << read.out;
  EXPECT_THAT(read.err, ::testing::HasSubstr("may be stale"));
  CommandResult write = controllers_[survivor]->Opctl({"scale", "service/redis-replica", "--replicas", "2"});
  EXPECT_NE(write.exit_code, 0) << "a write was acknowledged without etcd's quorum";
  // The agents' heartbeats are answered from memory: nothing is fenced or moved meanwhile.
  absl::Time lost = absl::Now();
  int samples = 0;
  while (absl::Now() - lost < absl::Seconds(10)) {
    EXPECT_EQ(Started(), running) << "a container was stopped or restarted while etcd had no quorum";
    ++samples;
  }
  ASSERT_TRUE(testing::Ok(etcd_->Restart(2)));
  ASSERT_TRUE(testing::Ok(etcd_->Restart(3)));
  EXPECT_TRUE(WaitFor(
      [&] {
        return controllers_[survivor]->Opctl({"get", "services"}).exit_code == 0;
      },
      absl::Seconds(30)));
  EXPECT_EQ(Started(), running);
  std::printf(
      "etcd without quorum for 10 s: reads said they may be stale, the write was refused; %d samples of all "
      "containers, none stopped or restarted\n",
      samples);
}

}  // namespace
}  // namespace opctl
