// The seed's Redis stack for real: manifests/redis.yaml applied through opctl onto a Docker host of
// the test's own (a private dockerd in its own network namespace, so the stack's fixed names and
// 172.19.0.0/16 never meet a stack already running on this machine). Redis is reached only through
// `docker exec`.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "re2/re2.h"
#include "tests/e2e/redis_stack_fixture.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/private_dockerd.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {

testing::PrivateDockerd* RedisStackTest::dockerd_ = nullptr;
testing::ControllerProcess* RedisStackTest::controller_ = nullptr;
testing::Process* RedisStackTest::agent_ = nullptr;
std::string* RedisStackTest::data_dir_ = nullptr;

namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using testing::WaitFor;

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

// The opctl_ metric names (histogram series included) the shipped rules and dashboards query.
std::set<std::string> MetricNamesQueried() {
  std::set<std::string> names;
  for (const char* file : {"docker/monitoring/prometheus/rules/opctl.yml",
                           "docker/monitoring/grafana/provisioning/dashboards/opctl.json"}) {
    std::ifstream in(testing::SourcePath(file));
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    for (size_t at = text.find("opctl_"); at != std::string::npos; at = text.find("opctl_", at + 1)) {
      size_t end = text.find_first_not_of("abcdefghijklmnopqrstuvwxyz_", at);
      names.insert(text.substr(at, end - at));
      at = end - 1;
    }
  }
  return names;
}

// Prometheus in its container scrapes the exporter, which reads Redis across the two networks, and
// opctl's own controller and agent across the Docker host's link to this side; the test asks
// Prometheus's HTTP API on 127.0.0.1:9090 inside the Docker host's own namespace.
TEST_F(RedisStackTest, PrometheusScrapesRedisAndOpctlAndGrafanaReportsItsMissingImage) {
  // The manifest as it ships, with the addresses this test's controller and agent got.
  std::string controller_metrics = testing::MetricsAddress(controller_->process().Output());
  std::string agent_metrics = testing::MetricsAddress(agent_->Output());
  ASSERT_TRUE(absl::StartsWith(controller_metrics, kHostSide)) << controller_->process().Output();
  ASSERT_TRUE(absl::StartsWith(agent_metrics, kHostSide)) << agent_->Output();
  std::ifstream shipped(testing::SourcePath("manifests/monitoring.yaml"));
  std::string manifest((std::istreambuf_iterator<char>(shipped)), std::istreambuf_iterator<char>());
  ASSERT_EQ(absl::StrReplaceAll({{"\"172.17.0.1:7081\"", absl::StrCat("\"", controller_metrics, "\"")},
                                 {"\"172.17.0.1:7090\"", absl::StrCat("\"", agent_metrics, "\"")}},
                                &manifest),
            2);
  std::string monitoring = *data_dir_ + "/monitoring.yaml";
  std::ofstream(monitoring) << manifest;
  CommandResult applied = controller_->Opctl({"apply", "-f", monitoring});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  CommandResult waited =
      controller_->Opctl({"wait", "service/prometheus", "service/redis-exporter", "--timeout", "120s"});
  ASSERT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  EXPECT_TRUE(WaitFor([&] { return PrometheusSaysOne("redis_up"); }, absl::Seconds(60), absl::Milliseconds(500)))
      << Prometheus("/api/v1/query", "redis_up");
  for (const char* job : {"opctl-controller", "opctl-agent"}) {
    EXPECT_TRUE(WaitFor([&] { return PrometheusSaysOne(absl::StrCat("up{job=\"", job, "\"}")); }, absl::Seconds(30),
                        absl::Milliseconds(500)))
        << job << ": " << Prometheus("/api/v1/targets");
  }
  // What it scraped is the controller's state and the agent's Docker calls.
  EXPECT_TRUE(PrometheusSaysOne("opctl_node_ready{node=\"e2e-redis\"}"))
      << Prometheus("/api/v1/query", "opctl_node_ready");
  EXPECT_TRUE(PrometheusSaysOne("opctl_service_replicas_ready{stack=\"redis\",service=\"redis-replica\"} == bool 2"));
  // Every metric the shipped rules and dashboard name has series here.
  std::string names = Prometheus("/api/v1/label/__name__/values");
  for (const std::string& name : MetricNamesQueried()) EXPECT_THAT(names, HasSubstr("\"" + name + "\"")) << name;
  EXPECT_THAT(Prometheus("/api/v1/rules"), HasSubstr("\"name\":\"OpctlNodeNotReady\""));
  EXPECT_THAT(Prometheus("/api/v1/targets"), ::testing::Not(HasSubstr("\"health\":\"down\"")));
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
  // opctl tells the story: the old master was scheduled, created, started, killed and brought back.
  testing::CommandResult story;
  EXPECT_TRUE(WaitFor(
      [&] {
        story = controller_->Opctl({"get", "events", "--for", "container/redis-master-0"});
        return RE2::PartialMatch(story.out, R"(Warning +(Healed|BackOff) +container/redis-master-0)");
      },
      absl::Seconds(30), absl::Milliseconds(500)))
      << story.out << story.err;
  std::printf("opctl get events --for container/redis-master-0:\n%s", story.out.c_str());
  testing::CommandResult described = controller_->Opctl({"describe", "container", "redis-master-0"});
  for (const char* line : {R"(Normal +Scheduled .* opctl-controller +assigned to node)",
                           R"(Normal +Started .* opctl-agent, )", R"(Warning +(Healed|BackOff) .* opctl-agent, )"}) {
    EXPECT_TRUE(RE2::PartialMatch(described.out, line)) << line << " not in\n" << described.out;
  }
  // The monitoring stack (applied by the Prometheus test before) saw it: the exporter watches the
  // seed's master address, a replica now, and RedisMasterChanged fires.
  if (controller_->Opctl({"get", "service", "prometheus"}).exit_code != 0) {
    std::printf("no monitoring stack in this run (a filtered run?): RedisMasterChanged not checked\n");
    return;
  }
  const std::string fired = R"(ALERTS{alertname="RedisMasterChanged",alertstate="firing"})";
  EXPECT_TRUE(WaitFor([&] { return PrometheusSaysOne(fired); }, absl::Seconds(60), absl::Milliseconds(500)))
      << Prometheus("/api/v1/alerts");
}

TEST_F(RedisStackTest, LogsOfAContainerAndOfAServiceThroughOpctl) {
  CommandResult master = controller_->Opctl({"logs", "container/redis-master-0"});
  ASSERT_EQ(master.exit_code, 0) << master.err;
  EXPECT_THAT(master.out, HasSubstr("opctl-redis-start: this node is"));
  CommandResult sentinels = controller_->Opctl({"logs", "service/redis-sentinel", "--tail", "3"});
  ASSERT_EQ(sentinels.exit_code, 0) << sentinels.err;
  for (const std::string& sentinel : kSentinels) EXPECT_THAT(sentinels.out, HasSubstr(sentinel + " | "));
}

TEST_F(RedisStackTest, RolloutRestartOfTheMasterHandsItOverWithoutLosingAWaitedWrite) {
  // Whichever service holds the master now (a failover may have moved it) is restarted.
  std::string master = CurrentMaster();
  ASSERT_FALSE(master.empty());
  std::string service = master.substr(0, master.rfind('-'));
  std::string master_id = dockerd_->Docker({"inspect", "-f", "{{.Id}}", master}).out;
  // A writer keeps writing to whoever the Sentinels name, each write WAITed for one replica.
  std::atomic<bool> stop = false;
  std::atomic<size_t> acknowledged_count = 0;
  std::vector<std::string> acknowledged;  // read after the writer ends
  absl::Duration longest_gap;
  std::thread writer([&] {
    absl::Time last_success = absl::Now();
    std::string target = master;
    for (int i = 0; !stop; ++i) {
      std::string key = absl::StrCat("e2e:rollout:", i);
      CommandResult result = Shell(target, "redis-cli SET " + key + " v && redis-cli WAIT 1 1000");
      if (absl::StartsWith(result.out, "OK\n") && result.out != "OK\n0\n") {
        acknowledged.push_back(key);
        ++acknowledged_count;
        longest_gap = std::max(longest_gap, absl::Now() - last_success);
        last_success = absl::Now();
      } else {
        // Refused, paused or gone: ask the Sentinels again, as a client library does.
        std::string named = CurrentMaster();
        if (!named.empty()) target = named;
      }
    }
  });
  // Writes acknowledged by the old master first, so the check below spans the handover (waited for, not
  // assumed: on a loaded machine a write through docker exec can take a while).
  ASSERT_TRUE(WaitFor([&] { return acknowledged_count >= 5; }, absl::Seconds(30)))
      << "the writer got no 5 WAITed writes acknowledged by " << master << " before the rollout";
  CommandResult restarted = controller_->Opctl({"rollout", "restart", "service/" + service});
  EXPECT_EQ(restarted.exit_code, 0) << restarted.err;
  CommandResult waited = controller_->Opctl({"wait", "service/" + service, "--timeout", "120s"});
  EXPECT_EQ(waited.exit_code, 0) << waited.out << waited.err;
  // Writes go on for a moment after the replacement is ready, so the last ones hit the new master too.
  size_t before_end = acknowledged_count;
  bool acknowledged_after = WaitFor([&] { return acknowledged_count >= before_end + 5; }, absl::Seconds(60));
  stop = true;
  writer.join();
  ASSERT_TRUE(acknowledged_after) << "no 5 WAITed writes were acknowledged in 60 s after the rollout ended ("
                                  << acknowledged.size() << " in all)";
  std::string new_master = CurrentMaster();
  ASSERT_FALSE(new_master.empty());
  // The container that was master has been replaced (with two replicas rolling, the role may come back
  // to its name through a second handover: which container ends up master is not the point).
  EXPECT_NE(dockerd_->Docker({"inspect", "-f", "{{.Id}}", master}).out, master_id) << master << " was not replaced";
  // The stack is whole again: the replaced container follows the new master.
  for (const auto& [address, container] : kAddresses) {
    if (container == new_master) continue;
    EXPECT_TRUE(WaitFor(
        [&] {
          return absl::StrContains(Cli(container, {"INFO", "replication"}), "master_link_status:up");
        },
        absl::Seconds(60)))
        << container << " does not follow the new master";
  }
  std::string missing;
  for (const std::string& key : acknowledged) {
    if (Cli(new_master, {"GET", key}) != "v") missing += key + " ";
  }
  EXPECT_EQ(missing, "") << "acknowledged writes lost in the rollout";
  std::printf(
      "rollout restart of service/%s: master %s before, %s after; %zu WAITed writes, none lost; "
      "longest gap between acknowledged writes %.2f s\n",
      service.c_str(), master.c_str(), new_master.c_str(), acknowledged.size(), absl::ToDoubleSeconds(longest_gap));
}

TEST_F(RedisStackTest, ABackupOfTheLiveMasterRestoresIntoAnotherRedisWithEveryWaitedWrite) {
  std::string master = CurrentMaster();
  ASSERT_FALSE(master.empty());
  std::string volume = master == "redis-master-0" ? "redis_master_data" : "data-" + master;
  CommandResult written = Shell(master,
                                "for i in $(seq 1 500); do echo SET e2e:backup:$i v$i; done | "
                                "redis-cli >/dev/null && redis-cli WAIT 1 5000");
  ASSERT_EQ(written.exit_code, 0) << written.err;
  ASSERT_NE(written.out, "0\n") << "no replica acknowledged the writes";
  // Writes go on during the backup: the archive must still be a consistent snapshot.
  std::atomic<bool> stop = false;
  std::thread writer([&] {
    for (int i = 0; !stop; ++i) Shell(master, absl::StrCat("redis-cli SET e2e:during-backup:", i, " v"));
  });
  std::string archive = *data_dir_ + "/master.tar.gz";
  absl::Time started = absl::Now();
  CommandResult backup = controller_->Opctl({"volume", "backup", volume, "-o", archive});
  double backup_seconds = absl::ToDoubleSeconds(absl::Now() - started);
  stop = true;
  writer.join();
  ASSERT_EQ(backup.exit_code, 0) << backup.err;
  std::printf("backup of %s under writes: %.1f s as the CLI saw it; %s", volume.c_str(), backup_seconds,
              backup.out.c_str());

  // A standalone Redis of its own (no Sentinels, no replicas) to restore into.
  std::string path = *data_dir_ + "/restore-check.yaml";
  std::ofstream(path) << R"(apiVersion: opctl.io/v1
kind: Volume
metadata: {name: restore-check-data, stack: restore-check}
---
apiVersion: opctl.io/v1
kind: Service
metadata: {name: redis-restore-check, stack: restore-check}
spec:
  replicas: 1
  network: {name: redis-net, addresses: [172.19.0.30]}
  template:
    image: opctl/redis-master:7.0
    args: ["--min-replicas-to-write", "0"]
    volumeMounts: [{name: restore-check-data, mountPath: /data}]
    healthcheck: {test: [CMD, redis-cli, ping], interval: 1s, timeout: 1s, retries: 3}
)";
  CommandResult applied = controller_->Opctl({"apply", "-f", path, "--wait", "--timeout", "60s"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err;
  ASSERT_EQ(Cli("redis-restore-check-0", {"SET", "only-before-restore", "x"}), "OK");

  CommandResult refused = controller_->Opctl({"volume", "restore", "restore-check-data", "-f", archive});
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("in use by redis-restore-check-0"));
  CommandResult restored = controller_->Opctl({"volume", "restore", "restore-check-data", "-f", archive, "--force"});
  ASSERT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_THAT(restored.out, HasSubstr("restarted redis-restore-check-0"));
  ASSERT_EQ(controller_->Opctl({"wait", "service/redis-restore-check", "--timeout", "60s"}).exit_code, 0);
  ASSERT_TRUE(WaitFor([&] { return Cli("redis-restore-check-0", {"PING"}) == "PONG"; }, absl::Seconds(30)));
  CommandResult count = Shell("redis-restore-check-0",
                              "n=0; for i in $(seq 1 500); do [ \"$(redis-cli GET e2e:backup:$i)\" = v$i ] && "
                              "n=$((n+1)); done; echo $n");
  EXPECT_EQ(count.out, "500\n") << "keys written before the backup missing after the restore";
  EXPECT_EQ(Cli("redis-restore-check-0", {"EXISTS", "only-before-restore"}), "0");
  controller_->Opctl({"delete", "-f", path});
}

TEST_F(RedisStackTest, TheScheduledBackupOfTheMasterVolumeRanAndIsInItsStatus) {
  // manifests/redis.yaml asks for hourly backups; the first is due as soon as the volume exists.
  std::string status;
  ASSERT_TRUE(WaitFor(
      [&] {
        status = controller_->Opctl({"get", "volume", "redis_master_data", "-o", "yaml"}).out;
        return absl::StrContains(status, "lastSuccessfulBackup");
      },
      absl::Seconds(60)));
  size_t at = status.find("lastSuccessfulBackup");
  size_t file_at = status.find("file: ", at);
  ASSERT_NE(file_at, std::string::npos) << status;
  std::string file = status.substr(file_at + 6, status.find('\n', file_at) - file_at - 6);
  CommandResult listing = testing::RunCommand({"tar", "-tzf", file});
  ASSERT_EQ(listing.exit_code, 0) << status << listing.err;
  EXPECT_THAT(listing.out, HasSubstr("./dump.rdb"));
  EXPECT_THAT(status, HasSubstr("backups: 1"));
}

}  // namespace
}  // namespace opctl
