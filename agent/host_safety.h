// The node's last word before a container is created, on what only the node can see: the image's
// own user, and where a host path really leads once symlinks are followed. The controller's policy
// has already been applied to the spec; these hold whatever the controller sent.
#pragma once

#include "absl/status/status.h"
#include "agent/docker_client.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::agent {

// Whether a USER value ("", "root", "0", "0:0", "redis", "999:999") names root.
bool IsRootUser(const std::string& user);

// FAILED_PRECONDITION, saying what to change, when the container would run as root without the
// manifest saying so (no spec.template.user and an image whose USER is root or unset).
absl::Status CheckRunsAsNonRoot(const v1::ContainerTemplate& spec, const DockerImage& image);

// FAILED_PRECONDITION when a hostPath mount resolves, on this node, into a path never mounted
// (common/host_path.h): a symlink under an allowed root must not lead to /etc.
absl::Status CheckHostPaths(const v1::ContainerTemplate& spec);

}  // namespace opctl::agent
