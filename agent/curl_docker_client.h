// DockerClient over the Engine's HTTP API on a unix socket, with libcurl. The API version is
// negotiated once from /version (Debian's dockerd speaks 1.41) and every path carries it.
//
// Thread-safe: each call uses its own curl handle.
#pragma once

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/docker_client.h"

namespace opctl::agent {

// The name of an Engine API call for counting, with no name or id in it: "GET containers/{id}/json",
// "POST containers/create"; an action it does not know is "{action}".
std::string DockerCallName(const std::string& method, const std::string& path);

class CurlDockerClient : public DockerClient {
 public:
  explicit CurlDockerClient(std::string socket_path = "/var/run/docker.sock");

  // Told of every finished Engine API call: its DockerCallName, the HTTP status (0: dockerd not
  // reached) and how long it took. Set before the client is used.
  using CallObserver = std::function<void(const std::string& call, long http_status, absl::Duration took)>;
  void SetCallObserver(CallObserver observer) { observer_ = std::move(observer); }

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
  absl::StatusOr<DockerStats> ContainerStats(const std::string& id) override;
  absl::Status StreamLogs(const std::string& id, const DockerLogOptions& options, const OutputSink& sink,
                          const CancelCheck& cancelled) override;
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
  struct Response {
    long code = 0;
    std::string body;
  };
  // Sends one request to /vX.YZ<path>; Docker's error statuses become absl errors.
  absl::StatusOr<Response> Call(const std::string& method, const std::string& path, const std::string& body = "",
                                long timeout_seconds = 60);
  absl::StatusOr<Response> Send(const std::string& method, const std::string& url, const std::string& body,
                                long timeout_seconds);
  absl::StatusOr<std::string> ApiPrefix();
  // A long-lived request whose body is handed to `on_bytes` as it arrives (returning false ends it)
  // until the server ends it or `cancelled`. Docker's errors become absl errors as in Call.
  absl::Status Stream(const std::string& method, const std::string& path, const std::string& body,
                      const std::function<bool(std::string_view)>& on_bytes, const CancelCheck& cancelled);
  absl::StatusOr<std::vector<DockerContainer>> ListContainersMatching(const std::string& filters);

  const std::string socket_path_;
  absl::Mutex mutex_;
  std::string api_version_ ABSL_GUARDED_BY(mutex_);
  CallObserver observer_;
};

}  // namespace opctl::agent
