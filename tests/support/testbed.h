// scripts/testbed.sh from a test: several real Docker hosts on this machine, with this build's agent
// (the sanitized one under scripts/test.sh, not build/'s). Tests that use it hold ctest's "testbed"
// lock: there is one bed per machine.
#pragma once

#include <string>
#include <vector>

#include "tests/support/process.h"

namespace opctl::testing {

// Where the bed's bridge is, on this machine's side: controllers listen here.
inline constexpr char kTestbedBridgeAddress[] = "10.231.0.1";

// Runs `scripts/testbed.sh ARGUMENTS...`; `images` (space-separated) are loaded on `up` (default
// the script's: opctl/busybox:test).
CommandResult Testbed(const std::vector<std::string>& arguments, const std::string& images = "");

// The log of host `host`'s agent (1-based), as scripts/testbed.sh writes it.
std::string TestbedAgentLog(int host);

}  // namespace opctl::testing
