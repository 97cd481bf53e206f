// Which Docker volumes opctl may touch on this node: those it made for this node (its labels), and one
// it did not make only when the Volume adopts it by name (spec.adoptExisting). Shared by the
// reconciler (mounting), backups and restores, so no path reaches another application's volume.
// Thread-safe (stateless over the Docker client).
#pragma once

#include <string>

#include "absl/status/status.h"
#include "agent/docker_client.h"

namespace opctl::agent {

// OK when the Docker volume `name` exists and opctl may use it for its Volume `name`. NOT_FOUND when
// there is none; FAILED_PRECONDITION, saying how to adopt it, when one exists that opctl did not make
// and `adopt` is false.
absl::Status CheckManagedVolume(DockerClient& docker, const std::string& node, const std::string& name, bool adopt);

}  // namespace opctl::agent
