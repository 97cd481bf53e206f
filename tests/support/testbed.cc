#include "tests/support/testbed.h"

namespace opctl::testing {

CommandResult Testbed(const std::vector<std::string>& arguments, const std::string& images) {
  std::vector<std::string> argv = {"env", "OPCTL_AGENT=" + BinaryPath("opctl-agent")};
  if (!images.empty()) argv.push_back("TESTBED_IMAGES=" + images);
  argv.push_back("bash");
  argv.push_back(SourcePath("scripts/testbed.sh"));
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return RunCommand(argv);
}

std::string TestbedAgentLog(int host) { return "/run/opctl-testbed/host" + std::to_string(host) + "/agent.log"; }

}  // namespace opctl::testing
