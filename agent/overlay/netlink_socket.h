// One rtnetlink socket (libmnl, what iproute2 itself uses): a request answered by an acknowledgement,
// or a dump answered by many messages. Errors carry the kernel's errno and say what was asked.
// Thread-safe: one request at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"

struct mnl_socket;
struct nlmsghdr;

namespace opctl::agent {

class NetlinkSocket {
 public:
  // A NETLINK_ROUTE socket in the calling thread's network namespace.
  static absl::StatusOr<std::unique_ptr<NetlinkSocket>> Open();
  ~NetlinkSocket();

  // Sends `message` (flags get NLM_F_REQUEST | NLM_F_ACK) and waits for the kernel's answer; `each`
  // (may be null) sees any message other than the acknowledgement. NOT_FOUND for ENODEV/ENOENT,
  // ALREADY_EXISTS for EEXIST, the errno's text otherwise, prefixed with `what`.
  absl::Status Request(nlmsghdr* message, const std::string& what,
                       const std::function<void(const nlmsghdr*)>& each = nullptr);
  // Sends a dump request (NLM_F_REQUEST | NLM_F_DUMP) and calls `each` for every message answered.
  absl::Status Dump(nlmsghdr* message, const std::string& what, const std::function<void(const nlmsghdr*)>& each);

 private:
  explicit NetlinkSocket(mnl_socket* socket);
  absl::Status Exchange(nlmsghdr* message, const std::string& what, const std::function<void(const nlmsghdr*)>& each);

  absl::Mutex mutex_;
  mnl_socket* const socket_;
  const uint32_t port_;
  uint32_t sequence_ ABSL_GUARDED_BY(mutex_);
};

// Room for one request's message and its attributes.
inline constexpr size_t kNetlinkRequestBytes = 1024;

}  // namespace opctl::agent
