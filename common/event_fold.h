// Folds Events in memory before they are sent or stored: every occurrence with the same involved
// object, reason and reporter becomes one Event whose count grows, whose message and last timestamp
// are the latest's and whose first timestamp is the earliest's, as Kubernetes' event correlator does.
// This is what keeps a crash loop's thousand restarts one Event with count 1000, and what lets a
// flood cost one write per Event per flush. Bounded: beyond `max_events` distinct Events waiting, new
// ones are dropped and counted (an existing one still folds). Thread-safe.
#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/event_recorder.h"
#include "opctl/v1/resources.pb.h"

namespace opctl {

// The name every controller gives the Event of (involved kind and name, reason, type, reporter):
// "NAME.HASH", the same in every process, so that controllers fold into one stored Event.
std::string EventObjectName(const v1::Event& event);

// An occurrence about `object` (its kind, name, uid and stack).
EventOccurrence OccurrenceOf(const v1::Object& object, std::string type, std::string reason, std::string message);

// An Event of one occurrence at `now` (count 1), reported by `component` on `node` (may be empty).
v1::Event EventOf(const EventOccurrence& occurrence, absl::Time now, const std::string& component,
                  const std::string& node);

// Folds `later` into `into` (the same Event): counts add, the earliest first and the latest last
// timestamp and message win.
void FoldEvent(v1::Event& into, const v1::Event& later);

class EventFold {
 public:
  explicit EventFold(size_t max_events = 1000) : max_events_(max_events) {}

  // `event` must have its reason, involved object, count and timestamps; its metadata.name is set here.
  void Add(v1::Event event);
  // The Events folded since the last Take, at most `max` of them, those waiting longest first; the
  // rest stay (and go on folding).
  std::vector<v1::Event> Take(size_t max = SIZE_MAX);
  // Occurrences dropped because the fold was full.
  int64_t dropped() const;

 private:
  const size_t max_events_;
  mutable absl::Mutex mutex_;
  struct Pending {
    uint64_t order;  // when it came in: who waited longest goes first
    v1::Event event;
  };
  std::map<std::string, Pending> pending_ ABSL_GUARDED_BY(mutex_);
  uint64_t next_order_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t dropped_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace opctl
