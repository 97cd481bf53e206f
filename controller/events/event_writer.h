// Where the controller's Events land. Occurrences from the controller's own loops (Record) and the
// folded Events agents send (Report) fold in memory (common/event_fold.h); a loop on the runtime's
// Manager writes them once per flush interval, a transaction per batch, each folded into the Event
// already stored under its name, so counts survive a restart and several controllers add up. So a
// flood of events costs at most one write per Event per interval and never queues ahead of an apply.
//
// The same loop expires Events last seen more than `ttl` ago and, beyond `max_events`, the oldest,
// so Events never crowd the store. It runs on every controller process, leader or not (agents report
// to whichever they reach); a conflict with another controller's write reads again and retries.
#pragma once

#include <atomic>
#include <string>
#include <vector>

#include "common/clock.h"
#include "common/event_fold.h"
#include "common/event_recorder.h"
#include "controller/registry.h"
#include "controller/runtime/reconciler.h"

namespace opctl::controller {

inline constexpr char kEventFlushKey[] = "events";

struct EventWriterOptions {
  absl::Duration flush_interval = absl::Seconds(1);
  absl::Duration ttl = absl::Hours(1);
  size_t max_events = 10000;   // stored
  size_t max_pending = 10000;  // folded in memory between flushes (common/event_fold.h)
  // Events written per flush at most (those waiting longest first; the rest keep folding): a flood
  // costs the store a few transactions a second, never more.
  size_t max_writes_per_flush = 500;
  absl::Duration expire_interval = absl::Seconds(10);
};

class EventWriter : public EventRecorder, public Reconciler {
 public:
  EventWriter(Registry& registry, Clock& clock, EventWriterOptions options = {});

  // Reported by opctl-controller.
  void Record(EventOccurrence occurrence) override;
  // Events an agent folded, reported by `node`: the reporter is set here, whatever the agent wrote.
  void Report(const std::string& node, std::vector<v1::Event> events);

  // kEventFlushKey: writes what is pending and, every expire interval, expires; then comes back after
  // the flush interval.
  absl::StatusOr<ReconcileResult> Reconcile(const std::string& key) override;

  // Occurrences recorded and dropped (too many distinct Events waited at once); Event writes.
  uint64_t recorded() const { return recorded_.load(); }
  int64_t dropped() const { return pending_.dropped(); }
  uint64_t written() const { return written_.load(); }
  const EventWriterOptions& options() const { return options_; }

 private:
  // Writes `events` (one batch) folded into what is stored; re-reads and retries on a conflict.
  absl::Status WriteBatch(const std::vector<v1::Event>& events);
  absl::Status Expire();

  Registry& registry_;
  Clock& clock_;
  const EventWriterOptions options_;
  EventFold pending_;
  std::atomic<uint64_t> recorded_{0};
  std::atomic<uint64_t> written_{0};
  absl::Time last_expired_ = absl::InfinitePast();  // touched by the loop's one worker only
};

}  // namespace opctl::controller
