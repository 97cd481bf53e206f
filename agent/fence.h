// Fencing: the agent's half of "no replica ever runs twice". The controller moves a Container away
// from a node it stopped hearing from; so the agent
//  - holds a lease renewed by each acknowledged heartbeat and, once it lapses, stops running the
//    containers the controller would move (it lapses 750 ms before the controller may act), and
//  - holds the fence instead while its peers witness that most nodes lost the controller too (see
//    Hold and agent/peer_witness.h): the controller then moves nothing, so stopping would only take
//    the workloads down for the controller's own trouble, and
//  - trusts the binding generations a heartbeat brings over a desired state that has not caught up
//    with them: a container moved away while the agent was cut off (an older binding generation, or
//    no binding at all) is removed, never restarted, even before the watch tells of the move.
//
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "opctl/v1/agent.pb.h"

namespace opctl::agent {

class Fence {
 public:
  // `reach_window`: how recent an acknowledged heartbeat must be for this node to tell a peer that it
  // reaches the controller. Well below the fencing window, so that when the controller stops for
  // everyone, every node says so by the time the first lease is about to lapse.
  explicit Fence(absl::Duration reach_window = absl::Seconds(1)) : reach_window_(reach_window) {}

  // `publish` hears each new deadline (for the FenceGuard); called outside the lock.
  void SetPublisher(std::function<void(absl::Time deadline)> publish);
  // A heartbeat sent at `sent` was acknowledged with `response`.
  void Renew(absl::Time sent, const v1::HeartbeatResponse& response);
  // Keeps the containers running until `until` although the lease lapsed: most nodes lost the
  // controller at once (a disruption), so it moves nothing. An earlier hold is replaced;
  // InfinitePast ends it.
  void Hold(absl::Time until);
  // When the lease lapses, holds included (InfiniteFuture while fencing is off: no lease yet, or a
  // lone node).
  absl::Time Deadline() const;
  bool Lapsed(absl::Time now) const { return now >= Deadline(); }
  // Whether the controller acknowledged a heartbeat sent within the reach window (holds not counted):
  // what this node tells a peer that asks (Peer.Lease).
  bool ControllerReachable(absl::Time now) const;
  // How long the controller lets a lapsed lease run before it may move containers (0: never fences).
  absl::Duration fence_after() const;
  // The revision of the bindings held (for the next heartbeat to ask only for newer ones).
  int64_t bindings_revision() const;
  // Whether `container`, as a desired state read at `desired_revision` has it, may run here at `now`.
  // The reason when not, for the log.
  bool MayRun(const v1::Container& container, int64_t desired_revision, absl::Time now,
              std::string* reason = nullptr) const;

 private:
  std::function<void(absl::Time)> publish_;  // set before any Renew
  mutable absl::Mutex mutex_;
  absl::Time renewed_until_ ABSL_GUARDED_BY(mutex_) = absl::InfiniteFuture();  // by acknowledged heartbeats
  absl::Time held_until_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();
  absl::Duration fence_after_ ABSL_GUARDED_BY(mutex_) = absl::ZeroDuration();
  const absl::Duration reach_window_;
  absl::Time acknowledged_at_ ABSL_GUARDED_BY(mutex_) = absl::InfinitePast();  // when the last acked one was sent
  v1::NodeBindings bindings_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace opctl::agent
