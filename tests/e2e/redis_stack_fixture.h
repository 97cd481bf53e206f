// The fixture of the seed's Redis stack tests (redis_stack_test.cc, redis_stack_interactive_test.cc):
// manifests/redis.yaml applied through opctl onto a private dockerd of the test's own, shared by
// every test of the binary. Redis is reached through `docker exec` unless a test says otherwise.
#pragma once

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/private_dockerd.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {

using testing::CommandResult;

inline const std::map<std::string, std::string> kAddresses = {
    {"172.19.0.2", "redis-master-0"}, {"172.19.0.3", "redis-replica-0"}, {"172.19.0.4", "redis-replica-1"}};
inline const std::vector<std::string> kSentinels = {"redis-sentinel-0", "redis-sentinel-1", "redis-sentinel-2"};
inline constexpr char kHostSide[] = "10.247.0.1";

class RedisStackTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dockerd = testing::PrivateDockerd::Start("redis", "10.252.0.1/24");
    ASSERT_TRUE(dockerd.ok()) << dockerd.status();
    dockerd_ = dockerd->release();
    for (const char* image : {"opctl/redis-master:7.0", "opctl/redis-replica:7.0", "opctl/redis-sentinel:7.0",
                              "opctl/prometheus:2.42", "opctl/redis-exporter:1.45", "opctl/toolbox:0.1"}) {
      ASSERT_TRUE(dockerd_->LoadImage(image).ok()) << image << " missing: run scripts/build-images.sh";
    }
    // The Docker host reaches this side at kHostSide, as a real host's containers reach its docker0
    // gateway: the monitoring stack's Prometheus scrapes the controller and the agent there.
    ASSERT_TRUE(dockerd_->LinkToHost(std::string(kHostSide) + "/24", "10.247.0.2/24").ok());
    data_dir_ = new std::string(testing::MakeTempDir("opctl-e2e-redis"));
    const std::string metrics_listen = absl::StrCat("--metrics-listen=", kHostSide, ":0");
    auto controller = testing::ControllerProcess::Start(*data_dir_, 0, {metrics_listen});
    ASSERT_TRUE(controller.ok()) << controller.status();
    controller_ = controller->release();
    std::vector<std::string> argv = {testing::BinaryPath("opctl-agent"),
                                     "--controller=" + controller_->address(),
                                     "--node=e2e-redis",
                                     "--docker-socket=" + dockerd_->socket(),
                                     "--pull=never",
                                     "--backup-dir=" + *data_dir_ + "/backups",
                                     metrics_listen};
    std::vector<std::string> tls = testing::AgentTlsFlags("e2e-redis");
    argv.insert(argv.end(), tls.begin(), tls.end());
    auto agent = testing::Process::Start(argv, *data_dir_ + "/agent.log");
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

  // The container that is master now, as the Sentinels say.
  static std::string CurrentMaster() {
    auto found = kAddresses.find(MasterAccordingTo("redis-sentinel-0"));
    return found == kAddresses.end() ? "" : found->second;
  }

  // Prometheus's HTTP API (the monitoring stack's, on 127.0.0.1:9090 in the Docker host's namespace):
  // GET `path`, with `expression` as its query parameter when given.
  static std::string Prometheus(const std::string& path, const std::string& expression = "") {
    std::vector<std::string> argv = {"nsenter",    "--net=/var/run/netns/" + dockerd_->netns(),
                                     "curl",       "-s",
                                     "--max-time", "2",
                                     "-G",         "http://127.0.0.1:9090" + path};
    if (!expression.empty()) {
      argv.push_back("--data-urlencode");
      argv.push_back("query=" + expression);
    }
    return testing::RunCommand(argv).out;
  }

  // Whether Prometheus's instant query `expression` has a result of value 1.
  static bool PrometheusSaysOne(const std::string& expression) {
    std::string answer = Prometheus("/api/v1/query", expression);
    return absl::StrContains(answer, "\"result\":[{") && absl::StrContains(answer, "\"1\"]");
  }

  // Runs `script` with sh in `container`.
  static CommandResult Shell(const std::string& container, const std::string& script) {
    return dockerd_->Docker({"exec", container, "sh", "-c", script});
  }

  static testing::PrivateDockerd* dockerd_;
  static testing::ControllerProcess* controller_;
  static testing::Process* agent_;
  static std::string* data_dir_;
};

}  // namespace opctl
