#include "agent/overlay/netlink_socket.h"

#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <vector>

#include "absl/strings/str_cat.h"

namespace opctl::agent {
namespace {

absl::Status FromErrno(int error, const std::string& what) {
  std::string message = absl::StrCat(what, ": ", std::strerror(error));
  if (error == ENODEV || error == ENOENT) return absl::NotFoundError(message);
  if (error == EEXIST) return absl::AlreadyExistsError(message);
  if (error == EPERM || error == EACCES) return absl::PermissionDeniedError(message);
  return absl::UnavailableError(message);
}

struct Callback {
  const std::function<void(const nlmsghdr*)>* each;
};

int OnMessage(const nlmsghdr* message, void* data) {
  const Callback* callback = static_cast<const Callback*>(data);
  if (*callback->each) (*callback->each)(message);
  return MNL_CB_OK;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NetlinkSocket>> NetlinkSocket::Open() {
  mnl_socket* socket = mnl_socket_open(NETLINK_ROUTE);
  if (socket == nullptr) return FromErrno(errno, "opening a netlink socket");
  if (mnl_socket_bind(socket, 0, MNL_SOCKET_AUTOPID) < 0) {
    int error = errno;
    mnl_socket_close(socket);
    return FromErrno(error, "binding a netlink socket");
  }
  return std::unique_ptr<NetlinkSocket>(new NetlinkSocket(socket));
}

NetlinkSocket::NetlinkSocket(mnl_socket* socket)
    : socket_(socket), port_(mnl_socket_get_portid(socket)), sequence_(static_cast<uint32_t>(time(nullptr))) {}

NetlinkSocket::~NetlinkSocket() { mnl_socket_close(socket_); }

absl::Status NetlinkSocket::Request(nlmsghdr* message, const std::string& what,
                                    const std::function<void(const nlmsghdr*)>& each) {
  message->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
  return Exchange(message, what, each);
}

absl::Status NetlinkSocket::Dump(nlmsghdr* message, const std::string& what,
                                 const std::function<void(const nlmsghdr*)>& each) {
  message->nlmsg_flags |= NLM_F_REQUEST | NLM_F_DUMP;
  return Exchange(message, what, each);
}

absl::Status NetlinkSocket::Exchange(nlmsghdr* message, const std::string& what,
                                     const std::function<void(const nlmsghdr*)>& each) {
  absl::MutexLock lock(&mutex_);
  std::vector<char> buffer(32 << 10);
  // What an earlier exchange left unread (it failed midway) would answer this one: drop it first.
  int fd = mnl_socket_get_fd(socket_);
  while (recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT) > 0) {
  }
  message->nlmsg_seq = ++sequence_;
  ssize_t sent;
  do {
    sent = mnl_socket_sendto(socket_, message, message->nlmsg_len);
  } while (sent < 0 && errno == EINTR);
  if (sent < 0) return FromErrno(errno, what);
  // A dump's answer comes in datagrams of up to a page or so each; 32 KiB holds any of them.
  Callback callback{&each};
  for (;;) {
    ssize_t received = mnl_socket_recvfrom(socket_, buffer.data(), buffer.size());
    if (received < 0 && errno == EINTR) continue;  // a signal, not an answer: the answer is still coming
    if (received < 0) return FromErrno(errno, what);
    // Another request's answer (the kernel never mixes two in one datagram): not ours.
    const auto* first = reinterpret_cast<const nlmsghdr*>(buffer.data());
    if (mnl_nlmsg_ok(first, static_cast<int>(received)) && first->nlmsg_seq != message->nlmsg_seq) continue;
    int result = mnl_cb_run(buffer.data(), received, message->nlmsg_seq, port_, OnMessage, &callback);
    if (result == MNL_CB_ERROR) return FromErrno(errno, what);
    if (result == MNL_CB_STOP) return absl::OkStatus();
  }
}

}  // namespace opctl::agent
