// The other direction of a bidirectional streaming call. gRPC's synchronous API lets one thread
// read a stream while another writes it; a handler that relays both ways runs one direction on a
// SideThread and must not return before that thread has ended (its stream dies with the call).
// Join waits a grace period for the peer to finish its side, then cancels, then waits for good.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "absl/status/statusor.h"
#include "absl/synchronization/notification.h"
#include "absl/time/time.h"

namespace opctl {

class SideThread {
 public:
  // RESOURCE_EXHAUSTED when no thread can be had (the call fails, the server goes on).
  static absl::StatusOr<std::unique_ptr<SideThread>> Start(std::function<void()> body);
  ~SideThread();  // joins (Join first: a body that never ends blocks here)

  // Waits until the body has returned, at most `grace`; then runs `cancel` (which must make the
  // body return) and waits for good.
  void Join(absl::Duration grace, const std::function<void()>& cancel);

 private:
  SideThread() = default;
  absl::Notification done_;
  std::thread thread_;
};

}  // namespace opctl
