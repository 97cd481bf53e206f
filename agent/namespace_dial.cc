#include "agent/namespace_dial.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/str_cat.h"

namespace opctl::agent {
namespace {

// A non-blocking TCP socket created in the network namespace `namespace_fd` refers to.
absl::StatusOr<int> SocketIn(int namespace_fd) {
  int fd = -1, error = 0;
  std::thread entering([&] {
    // This thread alone enters the namespace, and ends there.
    if (setns(namespace_fd, CLONE_NEWNET) != 0) {
      error = errno;
      return;
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) error = errno;
  });
  entering.join();
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot enter the container's network: ", std::strerror(error)));
  return fd;
}

}  // namespace

absl::StatusOr<int> DialInNetworkNamespace(int pid, int port, absl::Duration timeout) {
  if (pid <= 0) return absl::FailedPreconditionError("the container is not running");
  if (port <= 0 || port > 65535) return absl::InvalidArgumentError(absl::StrCat("port ", port, " is not 1 to 65535"));
  std::string path = absl::StrCat("/proc/", pid, "/ns/net");
  int namespace_fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (namespace_fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  absl::StatusOr<int> fd = SocketIn(namespace_fd);
  close(namespace_fd);
  if (!fd.ok()) return fd.status();
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int result = connect(*fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  int error = result == 0 ? 0 : errno;
  if (error == EINPROGRESS) {
    pollfd polled{*fd, POLLOUT, 0};
    int ready = poll(&polled, 1, static_cast<int>(absl::ToInt64Milliseconds(timeout)));
    socklen_t length = sizeof(error);
    if (ready <= 0) {
      error = ETIMEDOUT;
    } else if (getsockopt(*fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
      error = errno;
    }
  }
  if (error != 0) {
    close(*fd);
    return absl::UnavailableError(
        absl::StrCat("cannot connect to port ", port, " in the container: ", std::strerror(error)));
  }
  fcntl(*fd, F_SETFL, fcntl(*fd, F_GETFL) & ~O_NONBLOCK);
  return *fd;
}

}  // namespace opctl::agent
