// An in-memory DockerClient for unit tests of reconcile logic: containers, networks, volumes and
// images as maps, a call log, and switches to make calls fail the way dockerd does.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "agent/docker_client.h"

namespace opctl::agent::testing {

class FakeDockerClient : public DockerClient {
 public:
  // What the tests inspect and arrange directly.
  std::map<std::string, DockerContainer> containers;  // by id
  std::map<std::string, DockerContainerSpec> specs;   // by id
  std::map<std::string, DockerNetwork> networks;      // by id
  std::map<std::string, DockerVolume> volumes;        // by name
  std::set<std::string> images;
  std::set<std::string> pullable;  // images a pull succeeds for
  // The USER of images; an image not listed runs as 65534 (nobody), as the test image does.
  std::map<std::string, std::string> image_users;
  std::vector<std::string> calls;  // "create web-0", "start <id>", ...

  std::string AddUnmanagedContainer(const std::string& name);
  const DockerContainer* ByName(const std::string& name) const;
  int Count(const std::string& call_prefix) const;

  absl::StatusOr<DockerHostInfo> Info() override;
  absl::StatusOr<std::vector<DockerContainer>> ListContainers(
      const std::map<std::string, std::string>& labels) override;
  absl::StatusOr<DockerContainer> InspectContainer(const std::string& id_or_name) override;
  absl::StatusOr<std::string> CreateContainer(const std::string& name, const DockerContainerSpec& spec) override;
  absl::Status StartContainer(const std::string& id) override;
  absl::Status RestartContainer(const std::string& id, int timeout_seconds) override;
  absl::Status StopContainer(const std::string& id, int timeout_seconds) override;
  absl::Status RemoveContainer(const std::string& id) override;
  absl::StatusOr<std::vector<DockerContainer>> ListContainersUsingVolume(const std::string& volume) override;
  // The fake runs no processes: logs, exec and archives answer UNIMPLEMENTED (the integration tests
  // cover them against dockerd).
  absl::Status StreamLogs(const std::string& id, const DockerLogOptions& options, const OutputSink& sink,
                          const CancelCheck& cancelled) override;
  absl::StatusOr<DockerStats> ContainerStats(const std::string& id) override {
    return absl::UnimplementedError("the fake Docker client measures nothing");
  }
  absl::StatusOr<int> Exec(const std::string& id, const std::vector<std::string>& command, const std::string& user,
                           const OutputSink& sink, const CancelCheck& cancelled) override;
  absl::StatusOr<std::unique_ptr<DockerExecSession>> AttachExec(const std::string& id,
                                                                const DockerExecOptions& options) override;
  absl::Status PutArchive(const std::string& id, const std::string& path, const std::string& tar_file) override;
  absl::StatusOr<std::vector<DockerNetwork>> ListNetworks(const std::map<std::string, std::string>& labels) override;
  absl::StatusOr<DockerNetwork> InspectNetwork(const std::string& id_or_name) override;
  absl::StatusOr<std::string> CreateNetwork(const DockerNetworkSpec& spec) override;
  absl::Status RemoveNetwork(const std::string& id) override;
  absl::Status ConnectNetwork(const std::string& network, const std::string& container_id,
                              const std::string& ipv4_address) override;
  absl::StatusOr<std::vector<DockerVolume>> ListVolumes(const std::map<std::string, std::string>& labels) override;
  absl::Status CreateVolume(const std::string& name, const std::map<std::string, std::string>& labels) override;
  absl::Status RemoveVolume(const std::string& name) override;
  absl::StatusOr<DockerImage> InspectImage(const std::string& reference) override;
  absl::Status PullImage(const std::string& reference) override;
  absl::Status StreamEvents(const std::map<std::string, std::string>& labels,
                            const std::function<bool(const DockerEvent&)>& on_event,
                            const std::atomic<bool>& cancel) override;

 private:
  std::string NextId();
  int next_id_ = 1;
};

}  // namespace opctl::agent::testing
