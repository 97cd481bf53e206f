#include "agent/fence.h"

#include "absl/strings/str_cat.h"
#include "common/object.h"

namespace opctl::agent {

void Fence::SetPublisher(std::function<void(absl::Time deadline)> publish) { publish_ = std::move(publish); }

void Fence::Renew(absl::Time sent, const v1::HeartbeatResponse& response) {
  // Measured from the sending: the controller heard the heartbeat later than that, so its grace
  // ends later than this lease.
  absl::Time deadline = response.fence_after_milliseconds() > 0
                            ? sent + absl::Milliseconds(response.fence_after_milliseconds())
                            : absl::InfiniteFuture();
  {
    absl::MutexLock lock(&mutex_);
    renewed_until_ = deadline;
    held_until_ = absl::InfinitePast();
    fence_after_ = absl::Milliseconds(response.fence_after_milliseconds());
    acknowledged_at_ = sent;
    if (response.has_bindings() && response.bindings().revision() >= bindings_.revision()) {
      bindings_ = response.bindings();
    }
  }
  if (publish_) publish_(deadline);
}

void Fence::Hold(absl::Time until) {
  absl::Time deadline;
  {
    absl::MutexLock lock(&mutex_);
    held_until_ = until;
    deadline = std::max(renewed_until_, held_until_);
  }
  // The guard waits for the hold too: a dead agent's containers go no sooner than a live one's would.
  if (publish_) publish_(deadline);
}

absl::Time Fence::Deadline() const {
  absl::MutexLock lock(&mutex_);
  return std::max(renewed_until_, held_until_);
}

bool Fence::ControllerReachable(absl::Time now) const {
  absl::MutexLock lock(&mutex_);
  return now < acknowledged_at_ + reach_window_;
}

absl::Duration Fence::fence_after() const {
  absl::MutexLock lock(&mutex_);
  return fence_after_;
}

int64_t Fence::bindings_revision() const {
  absl::MutexLock lock(&mutex_);
  return bindings_.revision();
}

bool Fence::MayRun(const v1::Container& container, int64_t desired_revision, absl::Time now,
                   std::string* reason) const {
  absl::MutexLock lock(&mutex_);
  if (now >= std::max(renewed_until_, held_until_) && MovesOnNodeLoss(container)) {
    if (reason) *reason = "no heartbeat acknowledged in time: the controller may be moving it to another node";
    return false;
  }
  // A desired state at least as new as the bindings knows better; an older one may be stale.
  if (desired_revision >= bindings_.revision()) return true;
  auto bound = bindings_.binding_generations().find(container.metadata().name());
  if (bound != bindings_.binding_generations().end() && bound->second == container.spec().binding_generation()) {
    return true;
  }
  if (reason) {
    *reason = bound == bindings_.binding_generations().end()
                  ? absl::StrCat("no longer bound here (bindings at revision ", bindings_.revision(), ")")
                  : absl::StrCat("bound here again under binding ", bound->second, ", not ",
                                 container.spec().binding_generation());
  }
  return false;
}

}  // namespace opctl::agent
