// OperationsService's two interactive calls, Exec and PortForward: each relays one direction on a
// side thread (the caller's input) and the other on the call's own thread (the container's output).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "agent/namespace_dial.h"
#include "agent/operations_service.h"
#include "common/api_names.h"
#include "common/grpc_status.h"
#include "common/side_thread.h"

namespace opctl::agent {
namespace {

// How long a caller has to half-close once the container's side has ended.
constexpr absl::Duration kHalfCloseGrace = absl::Seconds(10);
constexpr size_t kMaxCommandWords = 4096;

grpc::Status Invalid(const std::string& message) { return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, message); }

grpc::Status CheckStart(const v1::ExecRequest::Start& start) {
  if (!start.kind().empty() && start.kind() != kKindContainer) return Invalid("an agent runs exec in Containers only");
  if (start.command().empty()) return Invalid("exec needs a command");
  if (start.command_size() > static_cast<int>(kMaxCommandWords)) {
    return Invalid(absl::StrCat("exec takes at most ", kMaxCommandWords, " command words"));
  }
  return grpc::Status::OK;
}

// Sends all of `data` on `fd`; false once the other side is gone.
bool SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return false;
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return true;
}

}  // namespace

grpc::Status OperationsService::Exec(grpc::ServerContext* context,
                                     grpc::ServerReaderWriter<v1::ExecResponse, v1::ExecRequest>* stream) {
  if (grpc::Status allowed = CheckCaller(*context); !allowed.ok()) return allowed;
  v1::ExecRequest message;
  if (!stream->Read(&message) || !message.has_start()) return Invalid("the first message must start the command");
  const v1::ExecRequest::Start start = message.start();
  if (grpc::Status valid = CheckStart(start); !valid.ok()) return valid;
  absl::StatusOr<DockerContainer> found = FindContainer(start.name());
  if (!found.ok()) return ToGrpcStatus(found.status());
  if (found->state != "running") {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("container ", start.name(), " is ", found->state, ", not running"));
  }
  DockerExecOptions options{{start.command().begin(), start.command().end()}, start.user(), start.tty(), start.stdin()};
  absl::StatusOr<std::unique_ptr<DockerExecSession>> session = docker_.AttachExec(found->id, options);
  if (!session.ok()) return ToGrpcStatus(session.status());
  DockerExecSession& exec = **session;
  if (start.tty() && start.size().rows() > 0) exec.Resize(start.size().rows(), start.size().columns()).IgnoreError();
  v1::ExecResponse first;
  first.set_container(start.name());
  if (!stream->Write(first)) return grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away");
  absl::StatusOr<std::unique_ptr<SideThread>> input = SideThread::Start([&] {
    v1::ExecRequest part;
    while (stream->Read(&part)) {
      // After the command has gone its stdin takes nothing; the caller's half-close is still awaited.
      if (part.has_resize()) exec.Resize(part.resize().rows(), part.resize().columns()).IgnoreError();
      if (!part.stdin().empty()) exec.WriteInput(part.stdin()).IgnoreError();
    }
    if (options.stdin) exec.CloseInput().IgnoreError();
  });
  if (!input.ok()) return ToGrpcStatus(input.status());
  absl::Status read = exec.ReadOutput(
      [&](int source, std::string_view data) {
        v1::ExecResponse output;
        output.mutable_output()->set_stream(source == 2 ? v1::LogChunk::STDERR : v1::LogChunk::STDOUT);
        output.mutable_output()->set_data(std::string(data));
        return watchdog_.TimedWrite(*context, [&] { return stream->Write(output); });
      },
      [context] { return context->IsCancelled(); });
  absl::StatusOr<int> exit_code = absl::CancelledError("the caller went away");
  if (!context->IsCancelled()) exit_code = read.ok() ? exec.ExitCode() : read;
  // No command is left behind: not by a caller that went away, nor when Docker ended the output of
  // a command still running (it does that to a terminal's command once the terminal's input closes).
  if (!exit_code.ok()) exec.Kill().IgnoreError();
  if (exit_code.ok()) {
    v1::ExecResponse last;
    last.set_exit_code(*exit_code);
    watchdog_.TimedWrite(*context, [&] { return stream->Write(last); });
  }
  (*input)->Join(kHalfCloseGrace, [context] { context->TryCancel(); });
  return ToGrpcStatus(exit_code.status());
}

grpc::Status OperationsService::PortForward(
    grpc::ServerContext* context, grpc::ServerReaderWriter<v1::PortForwardResponse, v1::PortForwardRequest>* stream) {
  if (grpc::Status allowed = CheckCaller(*context); !allowed.ok()) return allowed;
  v1::PortForwardRequest message;
  if (!stream->Read(&message) || !message.has_target()) return Invalid("the first message must name the target");
  const v1::PortForwardRequest::Target target = message.target();
  if (!target.kind().empty() && target.kind() != kKindContainer) return Invalid("an agent forwards Containers only");
  absl::StatusOr<DockerContainer> found = FindContainer(target.name());
  if (!found.ok()) return ToGrpcStatus(found.status());
  absl::StatusOr<DockerContainer> inspected = docker_.InspectContainer(found->id);
  if (!inspected.ok()) return ToGrpcStatus(inspected.status());
  absl::StatusOr<int> fd = DialInNetworkNamespace(inspected->pid, target.port(), absl::Seconds(5));
  if (!fd.ok()) return ToGrpcStatus(fd.status());
  v1::PortForwardResponse first;
  first.set_container(target.name());
  grpc::Status relayed = stream->Write(first) ? RelayConnection(context, *fd, stream)
                                              : grpc::Status(grpc::StatusCode::CANCELLED, "the caller went away");
  close(*fd);
  return relayed;
}

grpc::Status OperationsService::RelayConnection(
    grpc::ServerContext* context, int fd,
    grpc::ServerReaderWriter<v1::PortForwardResponse, v1::PortForwardRequest>* stream) {
  absl::StatusOr<std::unique_ptr<SideThread>> input = SideThread::Start([&] {
    v1::PortForwardRequest part;
    bool open = true;
    while (stream->Read(&part)) open = open && SendAll(fd, part.data());
    shutdown(fd, SHUT_WR);  // the caller's end of file
  });
  if (!input.ok()) return ToGrpcStatus(input.status());
  char buffer[32 << 10];
  while (!context->IsCancelled()) {
    pollfd polled{fd, POLLIN, 0};
    if (poll(&polled, 1, 1000) <= 0) continue;
    ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;  // the container's side closed (or reset) the connection
    v1::PortForwardResponse data;
    data.set_data(buffer, static_cast<size_t>(got));
    if (!watchdog_.TimedWrite(*context, [&] { return stream->Write(data); })) break;
  }
  (*input)->Join(kHalfCloseGrace, [context] { context->TryCancel(); });
  return grpc::Status::OK;
}

}  // namespace opctl::agent
