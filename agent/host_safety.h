// The node's last word before a container is created, on what only the node can see: the image's
// own user, and where a host path really leads once symlinks are followed. The controller's policy
// has already been applied to the spec; these hold whatever the controller sent.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "agent/docker_client.h"
#include "common/host_path.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::agent {

// Whether a USER value ("", "root", "0", "0:0", "redis", "999:999") names root.
bool IsRootUser(const std::string& user);

// FAILED_PRECONDITION, saying what to change, when the container would run as root without the
// manifest saying so (no spec.template.user and an image whose USER is root or unset).
absl::Status CheckRunsAsNonRoot(const v1::ContainerTemplate& spec, const DockerImage& image);

// Where each hostPath mount of `spec` really leads on this node: every path must exist, and once its
// symlinks are followed (realpath) it must lie under one of `roots` (the controller policy's
// hostPathRoots, resolved the same way) and outside every tree never mounted (common/host_path.h,
// plus `extra`). Returns the resolved path of each mount, in mount order (empty for a volume mount):
// Docker gets those, so a symlink swapped in later cannot redirect the mount. FAILED_PRECONDITION,
// naming the path and why, otherwise.
absl::StatusOr<std::vector<std::string>> ResolveHostPaths(const v1::ContainerTemplate& spec,
                                                          const std::vector<std::string>& roots,
                                                          const std::vector<ProtectedTree>& extra = {});

}  // namespace opctl::agent
