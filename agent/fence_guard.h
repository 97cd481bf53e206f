// The fence for when the agent itself is gone (kill -9, a crash, the OOM killer): a small process
// forked before the agent starts any thread, which outlives it. The agent tells it each new lease
// deadline through a pipe; when the pipe closes (the agent died) the guard waits for the last deadline,
// removes this node's containers labelled as movable, and reports them gone to the controller, which
// then starts them elsewhere at once (without the report it waits out the grace and a settle time). A new agent for the
// node stops a guard left waiting by its predecessor (through a pid file), since it fences on its own from then on.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "common/tls.h"

namespace opctl::agent {

class FenceGuard {
 public:
  // Forks the guard for `node` on dockerd at `docker_socket`, reporting to `controller_address` (over
  // TLS with the agent's certificate unless `tls.ca` is empty), after
  // stopping one left by an earlier agent (pid file under `run_dir`). Call before any thread exists
  // and before any gRPC use. Returns the parent's handle.
  static absl::StatusOr<FenceGuard> Start(const std::string& docker_socket, const std::string& node,
                                          const std::string& run_dir, const std::string& controller_address,
                                          const TlsFiles& tls);
  FenceGuard(FenceGuard&& other) noexcept : write_fd_(other.write_fd_) { other.write_fd_ = -1; }
  FenceGuard(const FenceGuard&) = delete;
  ~FenceGuard();

  // The lease now lapses at `deadline` (InfiniteFuture: no fencing).
  void Publish(absl::Time deadline);

 private:
  explicit FenceGuard(int write_fd) : write_fd_(write_fd) {}
  int write_fd_;
};

}  // namespace opctl::agent
