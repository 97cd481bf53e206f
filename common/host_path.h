// Host paths a container may never bind-mount, whatever the controller's policy: the ones that hand
// over the host (its root, configuration, kernel interfaces, Docker's socket and data). Shared by the
// validation (CLI and controller) and the agent, which checks again after resolving symlinks.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace opctl {

// "/srv/data/" -> "/srv/data"; "/srv/x/../y" -> "/srv/y". Lexical only: symlinks are not followed.
std::string NormalHostPath(const std::string& path);

// A tree no container may mount, and why (for messages).
struct ProtectedTree {
  std::string path;
  std::string what;
};

// Why `path` (absolute) can never be mounted, or nullopt when a policy may allow it. A path is refused
// when it is inside a protected tree (/etc, /proc, /usr, Docker's, containerd's and systemd's sockets
// and state, opctl's own data, ...) or holds one (/, /var, /run); `extra` adds trees only the caller
// knows (the agent's backup and run directories, the controller's data and certificates).
std::optional<std::string> NeverMountedReason(const std::string& path, const std::vector<ProtectedTree>& extra = {});

// Whether `path` is `root` or inside it (both normal).
bool IsUnder(const std::string& path, const std::string& root);

}  // namespace opctl
