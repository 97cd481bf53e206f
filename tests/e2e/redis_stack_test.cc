// The seed's Redis stack for real: manifests/redis.yaml applied through opctl onto a Docker host of
// the test's own (a private dockerd in its own network namespace, so the stack's fixed names and
// 172.19.0.0/16 never meet a stack already running on this machine). Redis is reached only through
// `docker exec`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "tests/support/private_dockerd.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::WaitFor;

const std::map<std::string, std::string> kAddresses = {
    {"172.19.0.2", "redis-master-0"}, {"172.19.0.3", "redis-replica-0"}, {"172.19.0.4", "redis-replica-1"}};
const std::vector<std::string> kSentinels = {"redis-sentinel-0", "redis-sentinel-1", "redis-sentinel-2"};

class RedisStackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dockerd = testing::PrivateDockerd::Start("redis", "10.252.0.1/24");
    ASSERT_TRUE(dockerd.ok()) << dockerd.status();
    dockerd_ = dockerd->release();
    for (const char* image : {"opctl/redis-master:7.0", "opctl/redis-replica:7.0", "opctl/redis-sentinel:7.0",
                              "opctl/prometheus:2.42", "opctl/redis-exporter:1.45"}) {
      ASSERT_TRUE(dockerd_->LoadImage(image).ok()) << image << " missing: run scripts/build-images.sh";
    }
    data_dir_ = new std::string(testing::MakeTempDir("opctl-e2e-redis"));
    auto controller = testing::ControllerProcess::Start(*data_dir_);
    ASSERT_TRUE(controller.ok()) << controller.status();
    controller_ = controller->release();
    auto agent = testing::Process::Start({testing::BinaryPath("opctl-agent"), "--controller=" + controller_->address(),
                                          "--node=e2e-redis", "--docker-socket=" + dockerd_->socket(), "--pull=never"},
                                         *data_dir_ + "/agent.log");
    ASSERT_TRUE(agent.ok());
    agent_ = agent->release();
    CommandResult applied =
        controller_->Opctl({"apply", "-f", testing::SourcePath("manifests/redis.yaml"), "--wait", "--timeout", "120s"});
    ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err << agent_->Output();
  }

  static void TearDownTestSuite() {
    delete agent_;
    delete controller_;
    delete dockerd_;
  }

  // redis-cli in `container` (port 6379, or 26379 for a sentinel); its trimmed output.
  static std::string Cli(const std::string& container, std::vector<std::string> arguments) {
    std::vector<std::string> command = {"exec", container, "redis-cli"};
    if (absl::StartsWith(container, "redis-sentinel")) {
      command.push_back("-p");
      command.push_back("26379");
    }
    command.insert(command.end(), arguments.begin(), arguments.end());
    CommandResult result = dockerd_->Docker(command);
    return std::string(absl::StripAsciiWhitespace(result.out + result.err));
  }

  static std::string MasterAccordingTo(const std::string& sentinel) {
    std::string answer = Cli(sentinel, {"--raw", "SENTINEL", "get-master-addr-by-name", "mymaster"});
    return answer.substr(0, answer.find('\n'));
  }

  // A field of `SENTINEL master mymaster` as `sentinel` sees it ("num-slaves", "flags", ...).
  static std::string SentinelField(const std::string& sentinel, const std::string& field) {
    std::vector<std::string> lines = absl::StrSplit(Cli(sentinel, {"--raw", "SENTINEL", "master", "mymaster"}), '\n');
    for (size_t i = 0; i + 1 < lines.size(); ++i) {
      if (lines[i] == field) return lines[i + 1];
    }
    return "";
  }

  static std::string Role(const std::string& container) {
    std::string info = Cli(container, {"INFO", "replication"});
    if (absl::StrContains(info, "role:master")) return "master";
    if (absl::StrContains(info, "role:slave")) return "replica";
    return "";
  }

  static testing::PrivateDockerd* dockerd_;
  static testing::ControllerProcess* controller_;
  static testing::Process* agent_;
  static std::string* data_dir_;
};

testing::PrivateDockerd* RedisStackTest::dockerd_ = nullptr;
testing::ControllerProcess* RedisStackTest::controller_ = nullptr;
testing::Process* RedisStackTest::agent_ = nullptr;
std::string* RedisStackTest::data_dir_ = nullptr;

TEST_F(RedisStackTest, ReplicasFollowTheMasterAndSentinelsAgree) {
  // The master takes writes once a replica is connected (min-replicas-to-write 1).
  ASSERT_TRUE(WaitFor(
      [&] {
        return Cli("redis-master-0", {"SET", "e2e:greeting", "hello"}) == "OK";
      },
      absl::Seconds(30)));
  for (const char* replica : {"redis-replica-0", "redis-replica-1"}) {
    EXPECT_TRUE(WaitFor(
        [&] {
          return Cli(replica, {"GET", "e2e:greeting"}) == "hello";
        },
        absl::Seconds(20)))
        << replica;
    EXPECT_EQ(Role(replica), "replica");
  }
  for (const std::string& sentinel : kSentinels) {
    EXPECT_TRUE(WaitFor([&] { return MasterAccordingTo(sentinel) == "172.19.0.2"; }, absl::Seconds(20))) << sentinel;
  }
  // The stack's status in opctl: every replica running and healthy.
  CommandResult services = controller_->Opctl({"get", "services"});
  EXPECT_THAT(services.out, HasSubstr("redis-master     redis   1/1"));
  EXPECT_THAT(services.out, HasSubstr("redis-replica    redis   2/2"));
  EXPECT_THAT(services.out, HasSubstr("redis-sentinel   redis   3/3"));
}

// Prometheus in its container scrapes the exporter, which reads Redis across the two networks; the
// test asks Prometheus's HTTP API on 127.0.0.1:9090 inside the Docker host's own namespace.
TEST_F(RedisStackTest, PrometheusScrapesRedisAndGrafanaReportsItsMissingImage) {
  CommandResult applied = controller_->Opctl({"apply", "-f", testing::SourcePath("manifests/monitoring.yaml")});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  CommandResult waited =
      controller_->Opctl({"wait", "service/prometheus", "service/redis-exporter", "--timeout", "120s"});
  ASSERT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  auto query = [&](const std::string& path) {
    return testing::RunCommand({"nsenter", "--net=/var/run/netns/" + dockerd_->netns(), "curl", "-s", "--max-time", "2",
                                "http://127.0.0.1:9090" + path})
        .out;
  };
  EXPECT_TRUE(WaitFor(
      [&] {
        std::string answer = query("/api/v1/query?query=redis_up");
        return absl::StrContains(answer, "\"redis_up\"") && absl::StrContains(answer, "\"1\"]");
      },
      absl::Seconds(60), absl::Milliseconds(500)))
      << query("/api/v1/query?query=redis_up");
  EXPECT_TRUE(WaitFor([&] { return absl::StrContains(query("/api/v1/targets"), "\"health\":\"up\""); },
                      absl::Seconds(30), absl::Milliseconds(500)));
  EXPECT_THAT(query("/api/v1/targets"), ::testing::Not(HasSubstr("\"health\":\"down\"")));
  // Grafana: no image can be had here; its status says so and the rest runs.
  EXPECT_TRUE(WaitFor(
      [&] {
        return absl::StrContains(controller_->Opctl({"describe", "container", "grafana-0"}).out,
                                 "image opctl/grafana:10.4 is not on this host");
      },
      absl::Seconds(30)));
}

// The seed's `--scale redis-replica=3`: the next ordinal gets the next address and a volume of its own
// and syncs; scaling down removes the highest ordinal and keeps its volume.
TEST_F(RedisStackTest, ScalingAddsTheNextReplicaAndKeepsItsDataOnTheWayDown) {
  ASSERT_EQ(controller_->Opctl({"scale", "service/redis-replica", "--replicas", "3"}).exit_code, 0);
  CommandResult waited = controller_->Opctl({"wait", "service/redis-replica", "--timeout", "120s"});
  ASSERT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  CommandResult address = dockerd_->Docker(
      {"inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", "redis-replica-2"});
  EXPECT_EQ(absl::StripAsciiWhitespace(address.out), "172.19.0.8");
  ASSERT_TRUE(WaitFor([&] { return Cli("redis-master-0", {"SET", "e2e:scaled", "yes"}) == "OK"; }, absl::Seconds(30)));
  EXPECT_TRUE(WaitFor([&] { return Cli("redis-replica-2", {"GET", "e2e:scaled"}) == "yes"; }, absl::Seconds(30)));
  EXPECT_EQ(Role("redis-replica-2"), "replica");
  EXPECT_THAT(dockerd_->Docker({"volume", "ls", "-q"}).out, HasSubstr("data-redis-replica-2"));

  ASSERT_EQ(controller_->Opctl({"scale", "service/redis-replica", "--replicas", "2"}).exit_code, 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        return dockerd_->Docker({"inspect", "redis-replica-2"}).exit_code != 0;
      },
      absl::Seconds(30)));
  EXPECT_THAT(dockerd_->Docker({"volume", "ls", "-q"}).out, HasSubstr("data-redis-replica-2")) << "data is kept";
  CommandResult too_many = controller_->Opctl({"scale", "service/redis-replica", "--replicas", "5"});
  EXPECT_EQ(too_many.exit_code, 1);
  EXPECT_THAT(too_many.err, HasSubstr("5 replicas need 5 static addresses"));
}

TEST_F(RedisStackTest, FailoverPromotesAReplicaLosesNoWaitedWriteAndTheOldMasterRejoins) {
  // Writes acknowledged by at least one replica before the kill (one exec, so the writes are quick).
  std::vector<std::string> acknowledged;
  CommandResult written =
      dockerd_->Docker({"exec", "redis-master-0", "sh", "-c",
                        "for i in $(seq 1 50); do r=$(redis-cli SET e2e:before-kill:$i v); w=$(redis-cli WAIT 1 2000); "
                        "echo \"$i $r $w\"; done"});
  for (absl::string_view line : absl::StrSplit(written.out, '\n', absl::SkipEmpty())) {
    std::vector<std::string> fields = absl::StrSplit(line, ' ');
    if (fields.size() == 3 && fields[1] == "OK" && fields[2] != "0") {
      acknowledged.push_back(absl::StrCat("e2e:before-kill:", fields[0]));
    }
  }
  ASSERT_FALSE(acknowledged.empty());

  // A failover needs Sentinels that know the replicas and each other (they learn within seconds).
  for (const std::string& sentinel : kSentinels) {
    ASSERT_TRUE(WaitFor(
        [&] {
          // A replica removed by scaling down stays on Sentinel's books (as down): at least two, then.
          return std::atoi(SentinelField(sentinel, "num-slaves").c_str()) >= 2 &&
                 SentinelField(sentinel, "num-other-sentinels") == "2";
        },
        absl::Seconds(60), absl::Milliseconds(200)))
        << sentinel << " does not know the replicas and the other Sentinels";
  }
  absl::Time killed = absl::Now();
  ASSERT_EQ(dockerd_->Docker({"kill", "redis-master-0"}).exit_code, 0);
  std::string new_master;
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string master = MasterAccordingTo("redis-sentinel-0");
        if (master.empty() || master == "172.19.0.2" || !kAddresses.count(master)) return false;
        new_master = kAddresses.at(master);
        return Cli(new_master, {"SET", "e2e:after-failover", "yes"}) == "OK";
      },
      absl::Seconds(60), absl::Milliseconds(50)));
  double failover_seconds = absl::ToDoubleSeconds(absl::Now() - killed);
  std::printf("failover: a write succeeded on the new master %s %.2f s after docker kill of the old one\n",
              new_master.c_str(), failover_seconds);

  // opctl brings the old master back; from its first answer on it must be a replica, never a master.
  bool seen_as_master = false;
  absl::Time rejoin_start = absl::Now();
  ASSERT_TRUE(WaitFor(
      [&] {
        std::string role = Role("redis-master-0");
        seen_as_master |= role == "master";
        return role == "replica" &&
               absl::StrContains(Cli("redis-master-0", {"INFO", "replication"}), "master_link_status:up");
      },
      absl::Seconds(60), absl::Milliseconds(50)));
  std::printf("the old master rejoined as a replica %.1f s after the failover\n",
              absl::ToDoubleSeconds(absl::Now() - rejoin_start));
  CommandResult logs = dockerd_->Docker({"logs", "redis-master-0"});
  EXPECT_FALSE(seen_as_master) << "the restarted old master served as a second master; its log:\n"
                               << logs.out << logs.err;
  for (const std::string& key : acknowledged) {
    EXPECT_EQ(Cli(new_master, {"GET", key}), "v") << key << " was acknowledged with WAIT 1 and lost";
  }
  std::printf("writes acknowledged with WAIT 1 before the kill and checked after failover: %zu\n", acknowledged.size());
}

}  // namespace
}  // namespace opctl
