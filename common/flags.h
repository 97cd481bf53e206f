// Command-line conventions shared by the three binaries.
#pragma once

#include <string>
#include <vector>

namespace opctl {

// Rewrites "--data-dir=x" as "--data_dir=x" (Abseil flag names cannot hold '-', users type it), up
// to a bare "--". Returns the rewritten arguments; argv pointers into it stay valid while it lives.
std::vector<std::string> NormalizeFlagNames(int argc, char** argv);
std::vector<char*> ArgvOf(std::vector<std::string>& arguments);

}  // namespace opctl
