// A Service's rollout bookkeeping, kept in its status: the history of its templates (for `opctl
// rollout history` and `undo`) and whether the rollout of the current one still makes progress.
// Pure functions of the Service and its Containers; thread-safe.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::controller {

// The strategy's values with their defaults filled in.
int MaxUnavailable(const v1::RolloutStrategy& rollout);
absl::Duration ProgressDeadline(const v1::RolloutStrategy& rollout);
int RevisionHistoryLimit(const v1::RolloutStrategy& rollout);

struct RolloutProgress {
  // The status' revisions, last progress time and updated-ready count, brought up to date.
  v1::ServiceStatus status;
  // The current template's rollout has not moved for longer than its deadline: replace no more.
  bool deadline_exceeded = false;
  // While a rollout is under way: how long until its deadline passes (look again then).
  absl::Duration until_deadline = absl::ZeroDuration();
};

// `updated_ready`: how many replicas run the current template and are ready; `complete`: every
// replica does (from then on the revision's rollout is over, whatever fails later). The service's stored status is the
// previous state.
RolloutProgress TrackRollout(const v1::Service& service, int updated_ready, bool complete, absl::Time now);

}  // namespace opctl::controller
