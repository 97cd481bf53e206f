#include "controller/reconcilers/service_rollout.h"

#include <algorithm>

#include "common/api_names.h"
#include "common/clock.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::controller {
namespace {

constexpr int kDefaultRevisionHistoryLimit = 10;
constexpr absl::Duration kDefaultProgressDeadline = absl::Seconds(600);

// Records the current template as the newest revision unless it already is; a template seen before
// (an undo) moves to the top under a new number, as Kubernetes renumbers its ReplicaSets. True when
// the current template changed.
bool RecordTemplate(const v1::Service& service, absl::Time now, v1::ServiceStatus& status) {
  auto& revisions = *status.mutable_revisions();
  auto same = [&](const v1::ServiceRevision& revision) {
    return google::protobuf::util::MessageDifferencer::Equals(revision.template_(), service.spec().template_());
  };
  if (!revisions.empty() && same(revisions[revisions.size() - 1])) return false;
  int64_t next = revisions.empty() ? 1 : revisions[revisions.size() - 1].revision() + 1;
  auto seen = std::find_if(revisions.begin(), revisions.end(), same);
  if (seen != revisions.end()) revisions.erase(seen);
  v1::ServiceRevision& added = *revisions.Add();
  added.set_revision(next);
  *added.mutable_template_() = service.spec().template_();
  auto cause = service.metadata().annotations().find(kChangeCauseAnnotation);
  if (cause != service.metadata().annotations().end()) added.set_change_cause(cause->second);
  added.set_created(FormatTimestamp(now));
  int limit = RevisionHistoryLimit(service.spec().rollout());
  if (revisions.size() > limit) revisions.DeleteSubrange(0, revisions.size() - limit);
  return true;
}

}  // namespace

int MaxUnavailable(const v1::RolloutStrategy& rollout) { return std::max(rollout.max_unavailable(), 1); }

absl::Duration ProgressDeadline(const v1::RolloutStrategy& rollout) {
  return rollout.progress_deadline_seconds() > 0 ? absl::Seconds(rollout.progress_deadline_seconds())
                                                 : kDefaultProgressDeadline;
}

int RevisionHistoryLimit(const v1::RolloutStrategy& rollout) {
  return rollout.revision_history_limit() > 0 ? rollout.revision_history_limit() : kDefaultRevisionHistoryLimit;
}

RolloutProgress TrackRollout(const v1::Service& service, int updated_ready, bool complete, absl::Time now) {
  RolloutProgress progress;
  v1::ServiceStatus& status = progress.status;
  *status.mutable_revisions() = service.status().revisions();
  status.set_last_progress_time(service.status().last_progress_time());
  bool moved = RecordTemplate(service, now, status) || updated_ready > service.status().updated_ready_replicas() ||
               status.last_progress_time().empty();
  if (moved) status.set_last_progress_time(FormatTimestamp(now));
  status.set_updated_ready_replicas(updated_ready);
  // Once a revision has run on every replica, a replica failing later is no stalled rollout.
  v1::ServiceRevision& current = *status.mutable_revisions()->rbegin();
  if (complete) current.set_completed(true);
  if (current.completed()) return progress;
  absl::Time deadline = ParseTimestamp(status.last_progress_time()) + ProgressDeadline(service.spec().rollout());
  progress.deadline_exceeded = now >= deadline;
  if (!progress.deadline_exceeded) progress.until_deadline = deadline - now;
  return progress;
}

}  // namespace opctl::controller
