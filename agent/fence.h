// Fencing: the agent's half of "no replica ever runs twice". The controller moves a Container away
// from a node it stopped hearing from; so the agent
//  - holds a lease renewed by each acknowledged heartbeat and, once it lapses, stops running the
//    containers the controller would move (it lapses 750 ms before the controller may act), and
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
  // `publish` hears each new deadline (for the FenceGuard); called outside the lock.
  void SetPublisher(std::function<void(absl::Time deadline)> publish);
  // A heartbeat sent at `sent` was acknowledged with `response`.
  void Renew(absl::Time sent, const v1::HeartbeatResponse& response);
  // When the lease lapses (InfiniteFuture while fencing is off: no lease yet, or a lone node).
  absl::Time Deadline() const;
  bool Lapsed(absl::Time now) const { return now >= Deadline(); }
  // The revision of the bindings held (for the next heartbeat to ask only for newer ones).
  int64_t bindings_revision() const;
  // Whether `container`, as a desired state read at `desired_revision` has it, may run here at `now`.
  // The reason when not, for the log.
  bool MayRun(const v1::Container& container, int64_t desired_revision, absl::Time now,
              std::string* reason = nullptr) const;

 private:
  std::function<void(absl::Time)> publish_;  // set before any Renew
  mutable absl::Mutex mutex_;
  absl::Time deadline_ ABSL_GUARDED_BY(mutex_) = absl::InfiniteFuture();
  v1::NodeBindings bindings_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace opctl::agent
