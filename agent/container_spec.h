// How a Container object becomes Docker's container: the labels opctl puts on everything it creates,
// the spec hash that tells whether a running container still matches, and the conversion of the
// template into Docker's terms. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "agent/docker_client.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::agent {

inline constexpr char kManagedByLabel[] = "opctl.io/managed-by";
inline constexpr char kManagedByValue[] = "opctl";
inline constexpr char kNodeLabel[] = "opctl.io/node";
inline constexpr char kKindLabel[] = "opctl.io/kind";
inline constexpr char kNameLabel[] = "opctl.io/name";
inline constexpr char kUidLabel[] = "opctl.io/uid";
inline constexpr char kStackLabel[] = "opctl.io/stack";
inline constexpr char kSpecHashLabel[] = "opctl.io/spec-hash";
// "true" on containers the controller moves to another node when this one is lost: what the fence
// guard removes once a dead agent's lease has lapsed.
inline constexpr char kMovesOnNodeLossLabel[] = "opctl.io/moves-on-node-loss";
inline constexpr char kDefaultHostIp[] = "127.0.0.1";
// A shell command (image labels count) the agent runs in a running container before stopping it on
// purpose: a spec change, a scale-down, a deletion. Like Kubernetes' preStop hook.
inline constexpr char kPreStopCommandLabel[] = "opctl.io/pre-stop-command";
// The host paths a container's bind mounts were resolved to when it was created, one per line: each
// start checks again that the manifest's paths still lead there.
inline constexpr char kHostPathsLabel[] = "opctl.io/host-paths";
// The defaults every container gets unless its manifest says otherwise.
inline constexpr int64_t kDefaultPidsLimit = 4096;
inline constexpr int64_t kDefaultLogMaxBytes = 10 << 20;
inline constexpr int kDefaultLogMaxFiles = 3;

// The labels that mark a Docker object as opctl's, for one node (two agents on one dockerd never
// touch each other's objects).
std::map<std::string, std::string> ManagedLabels(const std::string& node);
// ManagedLabels plus kind, name, uid and stack of `meta`.
std::map<std::string, std::string> ObjectLabels(const std::string& node, const std::string& kind,
                                                const v1::ObjectMeta& meta);

// A hash of everything in the spec that shapes the Docker container (not the node binding).
std::string SpecHash(const v1::ContainerSpec& spec);

// The Docker container for `container`, with ObjectLabels and the spec hash, and the safe defaults
// (a PID limit, no-new-privileges, a rotated log). A container with bind mounts of host paths is
// restarted by the agent, not by Docker (restart policy "no"), so every start checks them again.
// INVALID_ARGUMENT when a quantity does not parse (the controller validates, so only a corrupt object
// gets here).
absl::StatusOr<DockerContainerSpec> ToDockerSpec(const v1::Container& container, const std::string& node);

}  // namespace opctl::agent
