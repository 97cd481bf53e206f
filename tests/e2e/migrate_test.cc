// The way in and the way out, with the real tools on a Docker host of the test's own (a private
// dockerd in its own network namespace): the Redis stack exported for compose runs under Debian's
// docker-compose at its fixed addresses, exported for Swarm deploys with `docker stack deploy` on a
// one-node swarm, and the seed's compose file converted by opctl applies and runs. Each replicates:
// a key written on the master is read on every replica, and the Sentinels agree on the master.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "tests/support/private_dockerd.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

using testing::CommandResult;
using testing::WaitFor;

constexpr char kBridge[] = "10.249.0.1/24";
// The replicas of a Redis stack, by the names opctl gives them.
struct RedisStack {
  std::string master;
  std::vector<std::string> replicas, sentinels;
};
const RedisStack kProjectStack = {"redis-master-0",
                                  {"redis-replica-0", "redis-replica-1"},
                                  {"redis-sentinel-0", "redis-sentinel-1", "redis-sentinel-2"}};

class MigrateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto dockerd = testing::PrivateDockerd::Start("migrate", kBridge);
    ASSERT_TRUE(dockerd.ok()) << dockerd.status();
    dockerd_ = dockerd->release();
    for (const char* image : {"opctl/redis-master:7.0", "opctl/redis-replica:7.0", "opctl/redis-sentinel:7.0"}) {
      ASSERT_TRUE(dockerd_->LoadImage(image).ok()) << image << " missing: run scripts/build-images.sh";
    }
    out_dir_ = new std::string(testing::MakeTempDir("opctl-e2e-migrate"));
  }
  static void TearDownTestSuite() { delete dockerd_; }

  void TearDown() override { Empty(); }

  static CommandResult Opctl(const std::vector<std::string>& arguments) {
    std::vector<std::string> argv = {testing::BinaryPath("opctl")};
    argv.insert(argv.end(), arguments.begin(), arguments.end());
    return testing::RunCommand(argv);
  }
  // A command with DOCKER_HOST set to this test's dockerd (docker-compose, docker stack).
  static CommandResult OnDockerd(std::vector<std::string> argv) {
    argv.insert(argv.begin(), {"env", "DOCKER_HOST=unix://" + dockerd_->socket()});
    return testing::RunCommand(argv);
  }
  static void Empty() {
    CommandResult emptied = testing::RunCommand({testing::SourcePath("scripts/private-dockerd.sh"), "empty",
                                                 dockerd_->socket().substr(0, dockerd_->socket().rfind('/'))});
    EXPECT_EQ(emptied.exit_code, 0) << emptied.err;
  }

  // The running container of `service` by the label its tool gives it; empty while there is none.
  static std::string ContainerOf(const std::string& filter) {
    CommandResult found = dockerd_->Docker({"ps", "-q", "--filter", filter});
    std::vector<std::string> ids = absl::StrSplit(found.out, '\n', absl::SkipWhitespace());
    return ids.size() == 1 ? ids[0] : "";
  }
  static std::string Cli(const std::string& container, const std::vector<std::string>& arguments, int port = 6379) {
    std::vector<std::string> command = {"exec", container, "redis-cli", "-p", std::to_string(port)};
    command.insert(command.end(), arguments.begin(), arguments.end());
    CommandResult result = dockerd_->Docker(command);
    return std::string(absl::StripAsciiWhitespace(result.out + result.err));
  }

  // Waits until every one of the stack's containers runs, the master takes a write that every
  // replica then reads, and every Sentinel names the same master with every replica; `find` maps a
  // replica's name (redis-master-0, ...) to its container.
  static void ExpectReplication(const RedisStack& stack, const std::function<std::string(const std::string&)>& find,
                                const std::string& expected_master) {
    std::map<std::string, std::string> containers;
    std::vector<std::string> all = {stack.master};
    all.insert(all.end(), stack.replicas.begin(), stack.replicas.end());
    all.insert(all.end(), stack.sentinels.begin(), stack.sentinels.end());
    for (const std::string& name : all) {
      ASSERT_TRUE(WaitFor([&] { return !(containers[name] = find(name)).empty(); }, absl::Seconds(120)))
          << name << " never ran: " << dockerd_->Docker({"ps", "-a"}).out;
    }
    ASSERT_TRUE(WaitFor(
        [&] {
          return Cli(containers[stack.master], {"SET", "migrate:key", "moved"}) == "OK";
        },
        absl::Seconds(90)))
        << Cli(containers[stack.master], {"INFO", "replication"});
    for (const std::string& replica : stack.replicas) {
      EXPECT_TRUE(WaitFor(
          [&] {
            return Cli(containers[replica], {"GET", "migrate:key"}) == "moved";
          },
          absl::Seconds(30)))
          << replica << ": " << Cli(containers[replica], {"INFO", "replication"});
    }
    std::string replicas = absl::StrCat("\nnum-slaves\n", stack.replicas.size(), "\n");
    for (const std::string& sentinel : stack.sentinels) {
      std::string answer;
      EXPECT_TRUE(WaitFor(
          [&] {
            std::string container = find(sentinel);  // a Sentinel the tool restarted is a new container
            answer = Cli(container, {"--raw", "SENTINEL", "master", "mymaster"}, 26379);
            return absl::StrContains(answer, replicas) &&
                   absl::StartsWith(Cli(container, {"--raw", "SENTINEL", "get-master-addr-by-name", "mymaster"}, 26379),
                                    expected_master);
          },
          absl::Seconds(60)))
          << sentinel << ": " << answer;
    }
  }

  static testing::PrivateDockerd* dockerd_;
  static std::string* out_dir_;
};

testing::PrivateDockerd* MigrateTest::dockerd_ = nullptr;
std::string* MigrateTest::out_dir_ = nullptr;

TEST_F(MigrateTest, TheComposeExportRunsUnderDockerComposeAtItsFixedAddresses) {
  CommandResult exported =
      Opctl({"export", "--to", "compose", "-f", testing::SourcePath("manifests/redis.yaml"), "-o", *out_dir_});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  std::string file = *out_dir_ + "/redis.compose.yml";
  CommandResult up = OnDockerd({"docker-compose", "-p", "redis", "-f", file, "up", "-d"});
  ASSERT_EQ(up.exit_code, 0) << up.out << up.err;
  auto find = [](const std::string& name) { return ContainerOf("label=com.docker.compose.service=" + name); };
  ExpectReplication(kProjectStack, find, "172.19.0.2");
  const std::map<std::string, std::string> addresses = {
      {"redis-master-0", "172.19.0.2"},   {"redis-replica-0", "172.19.0.3"},  {"redis-replica-1", "172.19.0.4"},
      {"redis-sentinel-0", "172.19.0.5"}, {"redis-sentinel-1", "172.19.0.6"}, {"redis-sentinel-2", "172.19.0.7"}};
  for (const auto& [name, address] : addresses) {
    CommandResult inspected = dockerd_->Docker(
        {"inspect", "-f", "{{(index .NetworkSettings.Networks \"redis-net\").IPAddress}}", find(name)});
    EXPECT_EQ(absl::StripAsciiWhitespace(inspected.out), address) << name << inspected.err;
  }
  CommandResult down = OnDockerd({"docker-compose", "-p", "redis", "-f", file, "down", "-v"});
  EXPECT_EQ(down.exit_code, 0) << down.out << down.err;
}

TEST_F(MigrateTest, TheSwarmExportDeploysAsAStackAndReplicatesByName) {
  std::string advertise = std::string(kBridge).substr(0, std::string(kBridge).find('/'));
  CommandResult swarm = dockerd_->Docker({"swarm", "init", "--advertise-addr", advertise});
  ASSERT_EQ(swarm.exit_code, 0) << swarm.err;
  CommandResult exported =
      Opctl({"export", "--to", "swarm", "-f", testing::SourcePath("manifests/redis.yaml"), "-o", *out_dir_});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  CommandResult deployed = OnDockerd({"docker", "stack", "deploy", "-c", *out_dir_ + "/redis.stack.yml", "redis"});
  ASSERT_EQ(deployed.exit_code, 0) << deployed.out << deployed.err;
  auto find = [](const std::string& name) { return ContainerOf("label=com.docker.swarm.service.name=redis_" + name); };
  // Swarm fixes no address: the Sentinels know the master by its name.
  ExpectReplication(kProjectStack, find, "redis-master-0");
  // Swarm removes the network only once the tasks are gone: rm again until it all went.
  CommandResult removed;
  EXPECT_TRUE(WaitFor(
      [&] {
        removed = OnDockerd({"docker", "stack", "rm", "redis"});
        return removed.exit_code == 0 && dockerd_->Docker({"ps", "-aq"}).out.empty() &&
               !absl::StrContains(dockerd_->Docker({"network", "ls"}).out, "redis-net");
      },
      absl::Seconds(60), absl::Seconds(1)))
      << removed.err;
  EXPECT_EQ(dockerd_->Docker({"swarm", "leave", "--force"}).exit_code, 0);
}

TEST_F(MigrateTest, TheSeedsComposeFileConvertsAppliesAndReplicates) {
  std::string data_dir = testing::MakeTempDir("opctl-e2e-migrate-controller");
  auto controller = testing::ControllerProcess::Start(data_dir);
  ASSERT_TRUE(controller.ok()) << controller.status();
  std::vector<std::string> argv = {testing::BinaryPath("opctl-agent"), "--controller=" + (*controller)->address(),
                                   "--node=e2e-migrate", "--docker-socket=" + dockerd_->socket(), "--pull=never"};
  std::vector<std::string> tls = testing::AgentTlsFlags("e2e-migrate");
  argv.insert(argv.end(), tls.begin(), tls.end());
  auto agent = testing::Process::Start(argv, data_dir + "/agent.log");
  ASSERT_TRUE(agent.ok()) << agent.status();
  CommandResult converted = Opctl({"convert", "-f", testing::SourcePath("tests/data/compose/seed/docker-compose.yml"),
                                   "--stack", "redis", "-o", *out_dir_ + "/converted"});
  ASSERT_EQ(converted.exit_code, 0) << converted.err;
  CommandResult applied =
      (*controller)->Opctl({"apply", "-f", *out_dir_ + "/converted/redis.yaml", "--wait", "--timeout", "120s"});
  ASSERT_EQ(applied.exit_code, 0) << applied.out << applied.err << (*agent)->Output();
  // The seed's snippets have one replica and one Sentinel, each a compose service of its own; opctl
  // names each replica of a Service SERVICE-ORDINAL.
  auto find = [](const std::string& name) { return ContainerOf("name=^" + name + "$"); };
  ExpectReplication({"redis-master-0", {"redis-replica-1-0"}, {"redis-sentinel-1-0"}}, find, "172.19.0.2");
  // And out again, from what the controller holds (its Containers are not exported: compose makes its own).
  CommandResult exported = (*controller)->Opctl({"export", "--to", "compose", "--stack", "redis"});
  ASSERT_EQ(exported.exit_code, 0) << exported.err;
  EXPECT_THAT(exported.out, ::testing::HasSubstr("  redis-replica-1-0:\n"));
  EXPECT_THAT(exported.out, ::testing::HasSubstr("ipv4_address: 172.19.0.3\n"));
  // What the controller holds exports to the very bytes the applied file does: nothing it adds
  // (uids, versions, status, per-replica Volumes) leaks into the export.
  CommandResult from_file = Opctl({"export", "--to", "compose", "-f", *out_dir_ + "/converted/redis.yaml"});
  ASSERT_EQ(from_file.exit_code, 0) << from_file.err;
  EXPECT_EQ(exported.out, from_file.out);
  agent->reset();  // before emptying the host, or it would put the containers back
}

// The corpus (tests/data/compose/corpus): compose files covering every field convert maps, each one
// that docker-compose itself accepts; the controller takes every converted file (a server-side dry
// run, through its validation and policy), and each broken file is refused at the line its first
// line names ("# expect: LINE MESSAGE").
TEST_F(MigrateTest, TheCorpusConvertsAndAppliesAndEachBrokenFileIsRefusedAtItsLine) {
  std::string data_dir = testing::MakeTempDir("opctl-e2e-migrate-corpus");
  std::string policy = data_dir + "/policy.yaml";
  std::ofstream(policy) << "allowPrivileged: true\nallowedCapabilities: [ALL]\nallowHostNetwork: true\n"
                           "allowHostPID: true\nhostPathRoots: [/srv/opctl-corpus]\n";
  auto controller = testing::ControllerProcess::Start(data_dir, 0, {"--policy=" + policy});
  ASSERT_TRUE(controller.ok()) << controller.status();
  std::string corpus = testing::SourcePath("tests/data/compose/corpus");
  std::vector<std::filesystem::path> files, broken;
  for (const auto& entry : std::filesystem::directory_iterator(corpus)) {
    if (entry.path().extension() == ".yml") files.push_back(entry.path());
  }
  for (const auto& entry : std::filesystem::directory_iterator(corpus + "/broken")) broken.push_back(entry.path());
  std::sort(files.begin(), files.end());
  std::sort(broken.begin(), broken.end());
  EXPECT_GE(files.size(), 20u);
  for (const std::filesystem::path& file : files) {
    CommandResult peer = testing::RunCommand({"docker-compose", "-f", file.string(), "config", "-q"});
    EXPECT_EQ(peer.exit_code, 0) << file << " is not compose: " << peer.err;
    std::string out = data_dir + "/" + file.stem().string();
    CommandResult converted = Opctl({"convert", "-f", file.string(), "--stack", "corpus", "-o", out});
    ASSERT_EQ(converted.exit_code, 0) << file << converted.err;
    CommandResult applied = (*controller)->Opctl({"apply", "--dry-run=server", "-f", out + "/corpus.yaml"});
    EXPECT_EQ(applied.exit_code, 0) << file << applied.out << applied.err;
  }
  for (const std::filesystem::path& file : broken) {
    std::string header;
    std::ifstream in(file);
    std::getline(in, header);
    absl::string_view first = header;
    ASSERT_TRUE(absl::ConsumePrefix(&first, "# expect: ")) << file;
    std::string line(first.substr(0, first.find(' '))), message(first.substr(first.find(' ') + 1));
    CommandResult converted = Opctl({"convert", "-f", file.string(), "-o", "-"});
    EXPECT_EQ(converted.exit_code, 1) << file;
    EXPECT_THAT(converted.err, ::testing::HasSubstr(absl::StrCat(file.string(), ":", line, ": ", message)));
    EXPECT_THAT(converted.out, ::testing::IsEmpty()) << file << ": nothing is written for a broken file";
  }
  std::printf("compose corpus: %zu files converted and applied, %zu broken ones refused at their line\n", files.size(),
              broken.size());
}

}  // namespace
}  // namespace opctl
