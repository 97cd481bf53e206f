// opctl port-forward container/NAME|service/NAME [LOCAL:]REMOTE... [--address 127.0.0.1]
// Listens on local ports and carries each connection to the container's port through the controller
// and the agent of its node, as `kubectl port-forward` does: no published port is needed. Runs until
// interrupted; each connection is one stream of its own, so many run at once.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <iostream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "cli/commands/commands.h"
#include "common/api_names.h"

namespace opctl::cli {
namespace {

using ForwardStream = BidiStream<v1::PortForwardRequest, v1::PortForwardResponse>;

struct PortPair {
  int local = 0, remote = 0;
  int listener = -1;
};

absl::StatusOr<PortPair> ParsePorts(const std::string& word) {
  std::vector<std::string> parts = absl::StrSplit(word, ':');
  PortPair pair;
  bool parsed = parts.size() == 1
                    ? absl::SimpleAtoi(parts[0], &pair.remote)
                    : parts.size() == 2 && (parts[0].empty() || absl::SimpleAtoi(parts[0], &pair.local)) &&
                          absl::SimpleAtoi(parts[1], &pair.remote);
  if (parts.size() == 1) pair.local = pair.remote;
  if (!parsed || pair.remote < 1 || pair.remote > 65535 || pair.local < 0 || pair.local > 65535) {
    return absl::InvalidArgumentError(
        absl::StrCat("port-forward: ", word, " is not [LOCAL:]REMOTE (ports 1 to 65535; LOCAL empty or 0: any free)"));
  }
  return pair;
}

absl::Status Listen(const std::string& address, PortPair& pair) {
  sockaddr_in bound{};
  bound.sin_family = AF_INET;
  bound.sin_port = htons(static_cast<uint16_t>(pair.local));
  if (inet_pton(AF_INET, address.c_str(), &bound.sin_addr) != 1) {
    return absl::InvalidArgumentError(absl::StrCat("--address ", address, " is not an IPv4 address"));
  }
  pair.listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  setsockopt(pair.listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  socklen_t length = sizeof(bound);
  if (bind(pair.listener, reinterpret_cast<sockaddr*>(&bound), sizeof(bound)) != 0 || listen(pair.listener, 128) != 0 ||
      getsockname(pair.listener, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
    return absl::UnavailableError(
        absl::StrCat("cannot listen on ", address, ":", pair.local, ": ", std::strerror(errno)));
  }
  pair.local = ntohs(bound.sin_port);
  return absl::OkStatus();
}

bool SendAll(int fd, const std::string& data) {
  for (size_t sent = 0; sent < data.size();) {
    ssize_t now = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (now < 0 && errno == EINTR) continue;
    if (now <= 0) return false;
    sent += static_cast<size_t>(now);
  }
  return true;
}

// One accepted connection, carried both ways until each side has closed.
class ForwardedConnection {
 public:
  ForwardedConnection(ControllerApi& client, const v1::PortForwardRequest& target, int fd, std::ostream& err,
                      absl::Mutex& err_mutex)
      : client_(client), target_(target), fd_(fd), err_(err), err_mutex_(err_mutex) {}

  void Run() {
    std::unique_ptr<ForwardStream> stream = client_.PortForward();
    v1::PortForwardResponse message;
    if (stream->Write(target_) && stream->Read(&message)) {
      std::thread local([&] { CarryLocal(*stream); });
      while (stream->Read(&message)) {
        if (!SendAll(fd_, message.data())) break;
      }
      shutdown(fd_, SHUT_WR);  // the container's side closed: so does ours, to the local client
      remote_done_ = true;
      local.join();
    } else {
      stream->WritesDone();
    }
    grpc::Status status = stream->Finish();
    if (!status.ok()) {
      absl::MutexLock lock(&err_mutex_);
      err_ << "opctl: port-forward: " << client_.Explain(status) << "\n";
    }
    close(fd_);
  }

 private:
  // Local bytes to the stream until the local client closes; then half-closes. Once the container's
  // side is done, a local client that stays open is given up after a while.
  void CarryLocal(ForwardStream& stream) {
    char buffer[32 << 10];
    absl::Time given_up = absl::InfiniteFuture();
    while (absl::Now() < given_up) {
      if (remote_done_ && given_up == absl::InfiniteFuture()) given_up = absl::Now() + absl::Seconds(5);
      pollfd polled{fd_, POLLIN, 0};
      if (poll(&polled, 1, 200) <= 0) continue;
      ssize_t got = read(fd_, buffer, sizeof(buffer));
      if (got < 0 && errno == EINTR) continue;
      if (got <= 0) break;
      v1::PortForwardRequest data;
      data.set_data(buffer, static_cast<size_t>(got));
      if (!stream.Write(data)) break;
    }
    stream.WritesDone();
  }

  ControllerApi& client_;
  const v1::PortForwardRequest& target_;
  const int fd_;
  std::ostream& err_;
  absl::Mutex& err_mutex_;
  std::atomic<bool> remote_done_{false};
};

absl::StatusOr<v1::PortForwardRequest::Target> TargetOf(const std::vector<std::string>& words) {
  v1::PortForwardRequest::Target target;
  absl::StatusOr<ObjectReference> reference = ParseReference({words[0]});
  if (words[0].find('/') == std::string::npos) {
    target.set_kind(kKindContainer);
    target.set_name(words[0]);
  } else if (!reference.ok()) {
    return reference.status();
  } else if ((reference->kind->kind == kKindContainer || reference->kind->kind == kKindService) &&
             !reference->name.empty()) {
    target.set_kind(reference->kind->kind);
    target.set_name(reference->name);
  } else {
    return absl::InvalidArgumentError("port-forward takes container/NAME or service/NAME");
  }
  return target;
}

}  // namespace

int RunPortForward(CommandContext& context) {
  const std::vector<std::string>& words = context.arguments.positional();
  if (words.size() < 2)
    return Fail(context, "usage: opctl port-forward container/NAME|service/NAME [LOCAL:]REMOTE...", 2);
  absl::StatusOr<v1::PortForwardRequest::Target> target = TargetOf(words);
  if (!target.ok()) return Fail(context, std::string(target.status().message()), 2);
  std::string address = context.arguments.Get("address", "127.0.0.1");
  std::vector<PortPair> pairs;
  for (size_t i = 1; i < words.size(); ++i) {
    absl::StatusOr<PortPair> pair = ParsePorts(words[i]);
    if (!pair.ok()) return Fail(context, std::string(pair.status().message()), 2);
    if (absl::Status listening = Listen(address, *pair); !listening.ok()) {
      return Fail(context, std::string(listening.message()));
    }
    pairs.push_back(*pair);
    context.out << "Forwarding from " << address << ":" << pair->local << " -> " << pair->remote << std::endl;
  }
  absl::Mutex err_mutex;
  std::vector<pollfd> listeners;
  for (const PortPair& pair : pairs) listeners.push_back({pair.listener, POLLIN, 0});
  while (poll(listeners.data(), listeners.size(), -1) >= 0) {
    for (size_t i = 0; i < listeners.size(); ++i) {
      if (listeners[i].revents == 0) continue;
      int fd = accept4(listeners[i].fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      auto request = std::make_shared<v1::PortForwardRequest>();
      *request->mutable_target() = *target;
      request->mutable_target()->set_port(pairs[i].remote);
      // Each connection runs on a thread of its own until both sides have closed.
      std::thread([&context, &err_mutex, request, fd] {
        ForwardedConnection(context.client, *request, fd, context.err, err_mutex).Run();
      }).detach();
    }
  }
  return Fail(context, absl::StrCat("port-forward: ", std::strerror(errno)));
}

}  // namespace opctl::cli
