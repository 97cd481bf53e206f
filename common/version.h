// The version of opctl's binaries (CMake's project(VERSION)): what `opctl version`, `--version`, the
// controller's ListControllers and each agent's Node report. Thread-safe.
#pragma once

#include <string>

namespace opctl {

const std::string& OpctlVersion();

}  // namespace opctl
