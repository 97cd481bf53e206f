#include "agent/docker_exec_session.h"

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/docker_json.h"
#include "agent/multiplexed_stream.h"

namespace opctl::agent {
namespace {

constexpr size_t kMaxHeaderBytes = 64 << 10;

absl::Status Errno(const std::string& what) {
  return absl::UnavailableError(absl::StrCat(what, ": ", std::strerror(errno)));
}

absl::StatusOr<int> ConnectUnix(const std::string& path) {
  sockaddr_un address{};
  if (path.size() >= sizeof(address.sun_path)) return absl::InvalidArgumentError("docker socket path too long");
  address.sun_family = AF_UNIX;
  std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno("socket");
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    absl::Status failed = Errno("cannot reach dockerd at " + path);
    close(fd);
    return failed;
  }
  return fd;
}

absl::Status SendAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t sent = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (sent < 0 && errno == EINTR) continue;
    if (sent <= 0) return Errno("writing to the exec's connection");
    data.remove_prefix(static_cast<size_t>(sent));
  }
  return absl::OkStatus();
}

// Waits up to a second for `fd` to be readable; false on timeout.
bool Readable(int fd) {
  pollfd polled{fd, POLLIN, 0};
  return poll(&polled, 1, 1000) > 0;
}

// The HTTP status and headers of the answer, up to the blank line; the bytes after it are left in
// `rest`. Docker answers 101 (upgraded), or 200 from a daemon that ignores the upgrade.
absl::StatusOr<long> ReadAnswerHead(int fd, std::string& rest, std::string& head) {
  absl::Time deadline = absl::Now() + absl::Seconds(30);
  char buffer[4096];
  size_t end;
  while ((end = rest.find("\r\n\r\n")) == std::string::npos) {
    if (rest.size() > kMaxHeaderBytes) return absl::InternalError("dockerd's exec answer has no end of headers");
    if (absl::Now() > deadline) return absl::DeadlineExceededError("dockerd did not answer the exec start");
    if (!Readable(fd)) continue;
    ssize_t got = read(fd, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return Errno("dockerd closed the exec connection");
    rest.append(buffer, static_cast<size_t>(got));
  }
  head = rest.substr(0, end);
  rest.erase(0, end + 4);
  long code = 0;
  size_t space = head.find(' ');
  if (space == std::string::npos || !absl::SimpleAtoi(head.substr(space + 1, 3), &code)) {
    return absl::InternalError("dockerd's exec answer has no HTTP status");
  }
  return code;
}

}  // namespace

absl::StatusOr<std::unique_ptr<HijackedExecSession>> HijackedExecSession::Start(const std::string& socket_path,
                                                                                const std::string& start_path,
                                                                                const std::string& exec_id, bool tty,
                                                                                DockerCall call) {
  absl::StatusOr<int> fd = ConnectUnix(socket_path);
  if (!fd.ok()) return fd.status();
  std::string body = absl::StrCat(R"({"Detach":false,"Tty":)", tty ? "true" : "false", "}");
  std::string request = absl::StrCat("POST ", start_path,
                                     " HTTP/1.1\r\nHost: docker\r\nContent-Type: application/json\r\n"
                                     "Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: ",
                                     body.size(), "\r\n\r\n", body);
  std::string rest, head;
  absl::StatusOr<long> code = SendAll(*fd, request).ok() ? ReadAnswerHead(*fd, rest, head) : Errno("exec start");
  if (code.ok() && *code >= 400) {
    code = DockerHttpError(*code, rest, "POST", "/exec/" + exec_id + "/start");
  }
  if (!code.ok()) {
    close(*fd);
    return code.status();
  }
  return std::unique_ptr<HijackedExecSession>(
      new HijackedExecSession(*fd, exec_id, tty, std::move(call), std::move(rest)));
}

HijackedExecSession::~HijackedExecSession() { close(fd_); }

absl::Status HijackedExecSession::ReadOutput(const OutputSink& sink, const CancelCheck& cancelled) {
  MultiplexedStreamDecoder decoder(sink);
  auto feed = [&](std::string_view bytes) { return tty_ ? sink(1, bytes) : decoder.Feed(bytes); };
  if (!early_.empty() && !feed(std::exchange(early_, ""))) return absl::OkStatus();
  char buffer[32 << 10];
  while (!cancelled()) {
    if (!Readable(fd_)) continue;
    ssize_t got = read(fd_, buffer, sizeof(buffer));
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) return Errno("reading the exec's output");
    if (got == 0 || !feed(std::string_view(buffer, static_cast<size_t>(got)))) return absl::OkStatus();
  }
  return absl::CancelledError("exec cancelled");
}

absl::Status HijackedExecSession::WriteInput(std::string_view data) {
  absl::MutexLock lock(&write_mutex_);
  return SendAll(fd_, data);
}

absl::Status HijackedExecSession::CloseInput() {
  absl::MutexLock lock(&write_mutex_);
  if (shutdown(fd_, SHUT_WR) != 0 && errno != ENOTCONN) return Errno("closing the exec's stdin");
  return absl::OkStatus();
}

absl::Status HijackedExecSession::Resize(int rows, int columns) {
  if (rows <= 0 || columns <= 0 || rows > 10000 || columns > 10000) {
    return absl::InvalidArgumentError("a terminal size is 1 to 10000 rows and columns");
  }
  return call_("POST", absl::StrCat("/exec/", exec_id_, "/resize?h=", rows, "&w=", columns)).status();
}

absl::StatusOr<int> HijackedExecSession::ExitCode() {
  // The output ends a moment before Docker records the exit.
  absl::Time deadline = absl::Now() + absl::Seconds(5);
  for (absl::Duration pause = absl::Milliseconds(5);; pause = std::min(pause * 2, absl::Milliseconds(200))) {
    absl::StatusOr<std::string> inspected = call_("GET", "/exec/" + exec_id_ + "/json");
    if (!inspected.ok()) return inspected.status();
    absl::StatusOr<int> code = DecodeExecExitCode(*inspected);
    if (code.ok() || absl::Now() > deadline) return code;
    absl::SleepFor(pause);  // polling Docker, which has no wait for an exec
  }
}

absl::Status HijackedExecSession::Kill() {
  absl::StatusOr<std::string> inspected = call_("GET", "/exec/" + exec_id_ + "/json");
  if (!inspected.ok()) return inspected.status();
  // The pid is the host's: the agent shares the host's process namespace with dockerd.
  int pid = DecodeExecPid(*inspected);
  if (pid > 1 && kill(pid, SIGKILL) != 0 && errno != ESRCH) return Errno("killing the exec's process");
  return absl::OkStatus();
}

}  // namespace opctl::agent
