#include "common/event_fold.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/clock.h"
#include "common/object.h"
#include "common/stable_hash.h"

namespace opctl {
std::string EventObjectName(const v1::Event& event) {
  const v1::ObjectReference& involved = event.involved_object();
  uint64_t hash = StableHash()
                      .Add(involved.kind())
                      .Add(involved.name())
                      .Add(event.reason())
                      .Add(event.type())
                      .Add(event.reporting_component())
                      .Add(event.reporting_node())
                      .value();
  return absl::StrCat(involved.name(), ".", absl::StrFormat("%016x", hash));
}

EventOccurrence OccurrenceOf(const v1::Object& object, std::string type, std::string reason, std::string message) {
  const v1::ObjectMeta& meta = MetaOf(object);
  return {.kind = KindOf(object),
          .name = meta.name(),
          .uid = meta.uid(),
          .stack = meta.stack(),
          .type = std::move(type),
          .reason = std::move(reason),
          .message = std::move(message)};
}

v1::Event EventOf(const EventOccurrence& occurrence, absl::Time now, const std::string& component,
                  const std::string& node) {
  v1::Event event;
  event.mutable_involved_object()->set_kind(occurrence.kind);
  event.mutable_involved_object()->set_name(occurrence.name);
  event.mutable_involved_object()->set_uid(occurrence.uid);
  event.mutable_metadata()->set_stack(occurrence.stack);
  event.set_type(occurrence.type);
  event.set_reason(occurrence.reason);
  event.set_message(occurrence.message);
  event.set_count(std::max(1, occurrence.count));
  event.set_first_timestamp(FormatMicroTimestamp(now));
  event.set_last_timestamp(event.first_timestamp());
  event.set_reporting_component(component);
  event.set_reporting_node(node);
  return event;
}

void FoldEvent(v1::Event& into, const v1::Event& later) {
  // Saturates: a count never wraps to negative, however long a loop runs.
  int64_t count = int64_t{into.count()} + later.count();
  into.set_count(static_cast<int32_t>(std::min<int64_t>(count, INT32_MAX)));
  if (ParseTimestamp(later.first_timestamp()) < ParseTimestamp(into.first_timestamp())) {
    into.set_first_timestamp(later.first_timestamp());
  }
  if (ParseTimestamp(later.last_timestamp()) >= ParseTimestamp(into.last_timestamp())) {
    into.set_last_timestamp(later.last_timestamp());
    into.set_message(later.message());
    if (!later.involved_object().uid().empty()) into.mutable_involved_object()->set_uid(later.involved_object().uid());
  }
}

void EventFold::Add(v1::Event event) {
  std::string name = EventObjectName(event);
  absl::MutexLock lock(&mutex_);
  auto found = pending_.find(name);
  if (found != pending_.end()) {
    FoldEvent(found->second.event, event);
    return;
  }
  if (pending_.size() >= max_events_) {
    dropped_ += event.count();
    return;
  }
  event.mutable_metadata()->set_name(name);
  pending_.emplace(std::move(name), Pending{next_order_++, std::move(event)});
}

std::vector<v1::Event> EventFold::Take(size_t max) {
  absl::MutexLock lock(&mutex_);
  std::vector<std::map<std::string, Pending>::iterator> waiting;
  waiting.reserve(pending_.size());
  for (auto it = pending_.begin(); it != pending_.end(); ++it) waiting.push_back(it);
  size_t count = std::min(max, waiting.size());
  auto by_order = [](const auto& a, const auto& b) { return a->second.order < b->second.order; };
  std::nth_element(waiting.begin(), waiting.begin() + count, waiting.end(), by_order);
  std::sort(waiting.begin(), waiting.begin() + count, by_order);
  std::vector<v1::Event> events;
  events.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    events.push_back(std::move(waiting[i]->second.event));
    pending_.erase(waiting[i]);
  }
  return events;
}

int64_t EventFold::dropped() const {
  absl::MutexLock lock(&mutex_);
  return dropped_;
}

}  // namespace opctl
