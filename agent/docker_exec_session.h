// An exec attached both ways, as `docker exec -i` does it: POST /exec/ID/start with
// "Upgrade: tcp" on a unix-socket connection of its own, after which the connection carries the
// command's stdin one way and its output (raw with a TTY, Docker's multiplexed frames without) the
// other. Half-closing the connection closes the command's stdin. Resize and the exit code are
// ordinary API calls, made through `call`.
#pragma once

#include <functional>
#include <string>

#include "absl/synchronization/mutex.h"
#include "agent/docker_client.h"

namespace opctl::agent {

// One ordinary API call (method, path under the API version): its body, or Docker's error.
using DockerCall = std::function<absl::StatusOr<std::string>(const std::string& method, const std::string& path)>;

class HijackedExecSession final : public DockerExecSession {
 public:
  // Starts exec `exec_id` on a new connection to `socket_path`; `start_path` is the full request
  // path (with the API version).
  static absl::StatusOr<std::unique_ptr<HijackedExecSession>> Start(const std::string& socket_path,
                                                                    const std::string& start_path,
                                                                    const std::string& exec_id, bool tty,
                                                                    DockerCall call);
  ~HijackedExecSession() override;

  absl::Status ReadOutput(const OutputSink& sink, const CancelCheck& cancelled) override;
  absl::Status WriteInput(std::string_view data) override;
  absl::Status CloseInput() override;
  absl::Status Resize(int rows, int columns) override;
  absl::StatusOr<int> ExitCode() override;
  absl::Status Kill() override;

 private:
  HijackedExecSession(int fd, std::string exec_id, bool tty, DockerCall call, std::string early_output)
      : fd_(fd), exec_id_(std::move(exec_id)), tty_(tty), call_(std::move(call)), early_(std::move(early_output)) {}

  const int fd_;
  const std::string exec_id_;
  const bool tty_;
  const DockerCall call_;
  std::string early_;        // output that arrived with the upgrade's answer
  absl::Mutex write_mutex_;  // writes and the half-close, from any thread
};

}  // namespace opctl::agent
