#include "agent/fence_guard.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/status/statusor.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/container_spec.h"
#include "agent/curl_docker_client.h"
#include "common/clock.h"
#include "common/controller_channel.h"
#include "common/logger.h"
#include "grpcpp/grpcpp.h"
#include "opctl/v1/agent.grpc.pb.h"

namespace opctl::agent {
namespace {

constexpr int64_t kNoDeadline = 0;

// Tells the controller the agent is gone and `removed` with it, so it moves them without waiting out
// the grace. gRPC is first used here, in the forked child, so nothing of it crossed the fork.
void ReportAgentGone(const std::string& controller_address, const TlsFiles& tls, const std::string& node,
                     const std::vector<std::string>& removed) {
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = AgentChannelCredentials(tls);
  if (!credentials.ok()) {
    Logger::Stderr().Error("opctl-fence", credentials.status().message());
    return;
  }
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ControllerChannel(controller_address, *credentials);
  if (!channel.ok()) {
    Logger::Stderr().Error("opctl-fence", channel.status().message());
    return;
  }
  std::unique_ptr<v1::Agent::Stub> stub = v1::Agent::NewStub(*channel);
  v1::AgentGoneRequest request;
  request.set_node_name(node);
  for (const std::string& name : removed) request.add_removed(name);
  for (int attempt = 0; attempt < 3; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    v1::AgentGoneResponse response;
    grpc::Status status = stub->AgentGone(&context, request, &response);
    if (status.ok()) return;
    Logger::Stderr().Warn("opctl-fence", absl::StrCat("cannot tell the controller: ", status.error_message()));
  }
}

// The guard's life: follow the deadlines until the agent is gone, then fence once the last one passes
// and report it.
[[noreturn]] void RunGuard(int read_fd, const std::string& docker_socket, const std::string& node,
                           const std::string& controller_address, const TlsFiles& tls) {
  prctl(PR_SET_NAME, "opctl-fence");
  int64_t deadline_nanos = kNoDeadline;
  int64_t received = 0;
  while (read(read_fd, &received, sizeof(received)) == static_cast<ssize_t>(sizeof(received))) {
    deadline_nanos = received;
  }
  if (deadline_nanos == kNoDeadline) _exit(0);
  absl::Time deadline = absl::FromUnixNanos(deadline_nanos);
  Clock::Real().SleepUntil(deadline);
  CurlDockerClient docker(docker_socket);
  std::map<std::string, std::string> labels = ManagedLabels(node);
  labels[kMovesOnNodeLossLabel] = "true";
  absl::StatusOr<std::vector<DockerContainer>> movable = docker.ListContainers(labels);
  if (!movable.ok()) {
    Logger::Stderr().Error("opctl-fence", absl::StrCat("cannot list containers: ", movable.status().ToString()));
    _exit(1);
  }
  std::vector<std::string> removed;
  bool all_removed = true;
  for (const DockerContainer& container : *movable) {
    absl::Status status = docker.RemoveContainer(container.id);
    Logger::Stderr().Write(status.ok() ? LogLevel::kInfo : LogLevel::kWarning, "opctl-fence",
                           absl::StrCat("the agent of node ", node, " is gone and its lease lapsed: removed ",
                                        container.name, status.ok() ? "" : status.ToString()));
    all_removed = all_removed && status.ok();
    auto name = container.labels.find(kNameLabel);
    if (status.ok()) removed.push_back(name == container.labels.end() ? container.name : name->second);
  }
  // Only proof is worth reporting: with a copy possibly left running, the controller waits as for a
  // silent node.
  if (all_removed) ReportAgentGone(controller_address, tls, node, removed);
  _exit(all_removed ? 0 : 1);
}

void StopEarlierGuard(const std::string& pid_file) {
  std::ifstream in(pid_file);
  std::string text;
  pid_t pid = 0;
  if (!std::getline(in, text) || !absl::SimpleAtoi(text, &pid) || pid <= 1) return;
  // Only a process that still is a guard: the pid may have been reused.
  std::ifstream comm(absl::StrCat("/proc/", pid, "/comm"));
  std::string name;
  if (std::getline(comm, name) && name == "opctl-fence") kill(pid, SIGKILL);
}

}  // namespace

absl::StatusOr<FenceGuard> FenceGuard::Start(const std::string& docker_socket, const std::string& node,
                                             const std::string& run_dir, const std::string& controller_address,
                                             const TlsFiles& tls) {
  mkdir(run_dir.c_str(), 0755);
  std::string pid_file = absl::StrCat(run_dir, "/", node, ".fence.pid");
  StopEarlierGuard(pid_file);
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork: ", std::strerror(errno)));
  if (pid == 0) {
    close(fds[1]);
    setsid();  // not in the agent's process group: a signal to the group (Ctrl-C) must not take it
    RunGuard(fds[0], docker_socket, node, controller_address, tls);
  }
  close(fds[0]);
  std::ofstream(pid_file) << pid << "\n";
  // The guard is nobody's child to wait for once the agent is gone; while the agent lives, reap it
  // when it exits so it leaves no zombie.
  signal(SIGCHLD, SIG_IGN);
  return FenceGuard(fds[1]);
}

FenceGuard::~FenceGuard() {
  if (write_fd_ >= 0) close(write_fd_);
}

void FenceGuard::Publish(absl::Time deadline) {
  if (write_fd_ < 0) return;
  int64_t nanos = deadline == absl::InfiniteFuture() ? kNoDeadline : absl::ToUnixNanos(deadline);
  // Eight bytes into a pipe are written whole or not at all.
  if (write(write_fd_, &nanos, sizeof(nanos)) < 0)
    Logger::Stderr().Error("agent", absl::StrCat("fence guard: ", std::strerror(errno)));
}

}  // namespace opctl::agent
