// Dockerd's JSON, both ways, apart from the transport: the request bodies the agent sends, and the
// decoding of what dockerd answers (JSON bodies and event lines) into the Docker client's types. So
// both can be tested and fuzzed alone: whatever the bytes, a decoder returns a value or an error,
// never throws or crashes. Fields of the wrong type read as absent.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/docker_client.h"

namespace opctl::agent {

// The body of POST /containers/create: config, host config (limits, mounts, ports, the safe
// defaults) and the one network endpoint API 1.41 takes at creation.
std::string EncodeContainerCreate(const DockerContainerSpec& spec);
// The body of POST /networks/create: a bridge with its labels and, when given, subnet and gateway.
std::string EncodeNetworkCreate(const DockerNetworkSpec& spec);
std::string EncodeNetworkConnect(const std::string& container_id, const std::string& ipv4_address);

absl::StatusOr<DockerHostInfo> DecodeInfo(const std::string& body);                         // GET /info
absl::StatusOr<std::vector<DockerContainer>> DecodeContainerList(const std::string& body);  // /containers/json
absl::StatusOr<DockerContainer> DecodeContainerInspect(const std::string& body);            // /containers/ID/json
absl::StatusOr<std::vector<DockerNetwork>> DecodeNetworkList(const std::string& body);      // GET /networks
absl::StatusOr<DockerNetwork> DecodeNetworkInspect(const std::string& body);                // GET /networks/ID
absl::StatusOr<std::vector<DockerVolume>> DecodeVolumeList(const std::string& body);        // GET /volumes
absl::StatusOr<DockerImage> DecodeImageInspect(const std::string& body);                    // GET /images/X/json
// The "Id" of a create answer (networks, exec instances).
absl::StatusOr<std::string> DecodeId(const std::string& body, const std::string& what);
// GET /containers/ID/stats?stream=false, cgroup v1 or v2.
absl::StatusOr<DockerStats> DecodeStats(const std::string& body);
// The ApiVersion of GET /version.
absl::StatusOr<std::string> DecodeApiVersion(const std::string& body);
// The exit code of a finished exec (GET /exec/ID/json); an error while it still runs.
absl::StatusOr<int> DecodeExecExitCode(const std::string& body);
// The host pid of a running exec's process (GET /exec/ID/json); 0 once it has ended.
int DecodeExecPid(const std::string& body);
// The "error" of one line of a pull's progress stream, if it has one.
std::optional<std::string> DecodeProgressError(const std::string& line);
// One line of GET /events; nullopt when it is not an event object.
std::optional<DockerEvent> DecodeEvent(const std::string& line);
// The "message" of an error answer, or the body itself when it is not JSON.
std::string DecodeErrorMessage(const std::string& body);
// Docker's error answer (HTTP `code`, its body) to `method` `path` as an absl status (see docker_client.h).
absl::Status DockerHttpError(long code, const std::string& body, const std::string& method, const std::string& path);

}  // namespace opctl::agent
