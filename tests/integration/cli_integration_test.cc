// The CLI's own verbs against the real controller and an agent on this machine's dockerd:
// `opctl version` (client, controller, each agent) and the shells' completion, whose object names come
// from the controller as the user types.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/version.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

using testing::CommandResult;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kNode[] = "cli-node";

class CliIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_dir_ = testing::MakeTempDir("opctl-cli-integration");
    auto controller = testing::ControllerProcess::Start(data_dir_);
    ASSERT_TRUE(controller.ok()) << controller.status();
    controller_ = *std::move(controller);
    std::vector<std::string> argv = {testing::BinaryPath("opctl-agent"), "--controller=" + controller_->address(),
                                     std::string("--node=") + kNode, "--docker-socket=/var/run/docker.sock",
                                     "--pull=never"};
    std::vector<std::string> tls = testing::AgentTlsFlags(kNode);
    argv.insert(argv.end(), tls.begin(), tls.end());
    auto agent = testing::Process::Start(argv, data_dir_ + "/agent.log");
    ASSERT_TRUE(agent.ok()) << agent.status();
    agent_ = *std::move(agent);
    ASSERT_TRUE(agent_->WaitForLine("following", absl::Seconds(30)).ok()) << agent_->Output();
  }

  // What bash completes for the words (the last one being typed), through `opctl completion bash`.
  std::string Complete(const std::string& words) {
    std::string script = absl::StrCat("opctl() { ", testing::BinaryPath("opctl"), " --server=", controller_->address(),
                                      " \"$@\"; }\nsource <(opctl completion bash)\nCOMP_WORDS=(", words,
                                      ")\nCOMP_CWORD=$((${#COMP_WORDS[@]} - 1))\n_opctl\necho \"${COMPREPLY[*]}\"\n");
    CommandResult result = testing::RunCommand({"bash", "-c", script});
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return std::string(absl::StripAsciiWhitespace(result.out));
  }

  std::string data_dir_;
  std::unique_ptr<testing::ControllerProcess> controller_;
  std::unique_ptr<testing::Process> agent_;
};

TEST_F(CliIntegrationTest, VersionNamesTheClientTheControllerAndEachAgent) {
  const std::string& version = OpctlVersion();
  CommandResult shown;
  ASSERT_TRUE(testing::WaitFor(
      [&] {
        shown = controller_->Opctl({"version"});
        return absl::StrContains(shown.out, absl::StrCat("Agent ", kNode));
      },
      absl::Seconds(30)))
      << shown.out << shown.err;
  EXPECT_EQ(shown.exit_code, 0);
  EXPECT_THAT(shown.out, HasSubstr("Client: opctl " + version + "\n"));
  EXPECT_THAT(shown.out, HasSubstr("Server: opctl-controller " + version + " (store: "));
  EXPECT_THAT(shown.out, HasSubstr(absl::StrCat("Agent ", kNode, ": opctl-agent ", version, ", Docker ")));
  nlohmann::json json = nlohmann::json::parse(controller_->Opctl({"version", "-o", "json"}).out);
  EXPECT_EQ(json["client"], version);
  EXPECT_EQ(json["server"], version);
  EXPECT_EQ(json["agents"][kNode]["agent"], version);

  CommandResult client = testing::RunCommand({testing::BinaryPath("opctl"), "version", "--client"});
  EXPECT_EQ(client.exit_code, 0);
  EXPECT_EQ(client.out, "Client: opctl " + version + "\n");
  // No controller there: the client's version still, and why the server's is missing.
  CommandResult alone = testing::RunCommand({testing::BinaryPath("opctl"), "--server=127.0.0.1:1", "version"});
  EXPECT_EQ(alone.exit_code, 1);
  EXPECT_THAT(alone.out, HasSubstr("Client: opctl " + version));
  EXPECT_THAT(alone.out, HasSubstr("Server: not reachable: "));
  for (const char* binary : {"opctl-controller", "opctl-agent"}) {
    CommandResult flag = testing::RunCommand({testing::BinaryPath(binary), "--version"});
    EXPECT_THAT(flag.out, HasSubstr(absl::StrCat(binary, " ", version))) << flag.err;
  }
}

TEST_F(CliIntegrationTest, CompletionOffersVerbsKindsFlagsAndTheControllersNames) {
  EXPECT_EQ(Complete("opctl ge"), "get");
  EXPECT_EQ(Complete("opctl get no"), "node nodes no");
  EXPECT_EQ(Complete("opctl apply --dry"), "--dry-run");
  EXPECT_EQ(Complete("opctl export --to k"), "kubernetes");
  EXPECT_EQ(Complete("opctl completion z"), "zsh");
  // Names, asked of the controller: the node the agent registered.
  ASSERT_TRUE(testing::WaitFor([&] { return Complete("opctl get nodes ''") == kNode; }, absl::Seconds(30)));
  EXPECT_EQ(Complete("opctl describe node/cli"), absl::StrCat("node/", kNode));
  EXPECT_EQ(Complete("opctl cordon ''"), absl::StrCat("node/", kNode));
  EXPECT_EQ(Complete("opctl get services ''"), "");  // none yet
  std::string manifest = data_dir_ + "/net.yaml";
  std::ofstream(manifest) << "apiVersion: opctl.io/v1\nkind: Network\nmetadata:\n  name: cli-net\n  stack: shop\n"
                             "spec:\n  subnet: 10.91.0.0/24\n";
  ASSERT_EQ(controller_->Opctl({"apply", "-f", manifest}).exit_code, 0);
  EXPECT_EQ(Complete("opctl get net ''"), "cli-net");
  EXPECT_EQ(Complete("opctl delete network/c"), "network/cli-net");
  EXPECT_EQ(Complete("opctl get networks --stack ''"), "shop");
  CommandResult unknown = controller_->Opctl({"completion", "fish"});
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("bash or zsh"));
  // zsh loads the same completion through bashcompinit.
  std::string zsh = absl::StrCat("autoload -U compinit && compinit -u\nsource <(", testing::BinaryPath("opctl"),
                                 " completion zsh)\nwhence -w _opctl\n");
  CommandResult loaded = testing::RunCommand({"zsh", "-f", "-c", zsh});
  EXPECT_EQ(loaded.exit_code, 0) << loaded.err;
  EXPECT_THAT(loaded.out, HasSubstr("_opctl: function"));
  EXPECT_THAT(loaded.err, Not(HasSubstr("error")));
}

TEST_F(CliIntegrationTest, EachVerbHasItsOwnHelpAndRefusesAFlagItDoesNotTake) {
  CommandResult help = testing::RunCommand({testing::BinaryPath("opctl"), "apply", "--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("  opctl apply -f FILE|DIR|-"));
  EXPECT_THAT(help.out, HasSubstr("--prune"));
  EXPECT_THAT(help.out, HasSubstr("--server"));  // the connection's flags go with every verb
  EXPECT_THAT(help.out, Not(HasSubstr("--replicas")));
  EXPECT_THAT(help.out, Not(HasSubstr("opctl get ")));
  CommandResult cordon = testing::RunCommand({testing::BinaryPath("opctl"), "uncordon", "--help"});
  EXPECT_THAT(cordon.out, HasSubstr("  opctl cordon|uncordon node/NAME"));
  CommandResult refused = controller_->Opctl({"get", "services", "--replicas", "3"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("flag --replicas is not a flag of get: its own are --output, --selector"));
  EXPECT_EQ(controller_->Opctl({"scale", "service/none", "--replicas", "3"}).exit_code, 1);  // taken, and tried
}

}  // namespace
}  // namespace opctl
