// Files that hold volume data on the host (backup archives, restore uploads): created readable by
// the agent's user only, whatever the umask, and made durable with their directory entry.
#pragma once

#include <cstdio>
#include <string>

#include "absl/status/status.h"

namespace opctl::agent {

// Creates (or truncates) `path` with mode 0600 for writing; nullptr when it cannot (errno set).
FILE* CreatePrivateFile(const std::string& path);

// fsyncs the directory `path`, so a rename into it survives a crash.
absl::Status SyncDirectory(const std::string& path);

}  // namespace opctl::agent
