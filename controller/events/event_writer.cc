#include "controller/events/event_writer.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/api_names.h"
#include "common/object.h"
#include "controller/reconcilers/registry_calls.h"
#include "controller/stored_object.h"

namespace opctl::controller {
namespace {

// etcd refuses a transaction of more than --max-txn-ops (128 by default) operations.
constexpr size_t kBatch = 100;
constexpr int kConflictRetries = 3;

template <typename T>
std::vector<std::vector<T>> Batches(std::vector<T> items) {
  std::vector<std::vector<T>> batches;
  for (size_t i = 0; i < items.size(); i += kBatch) {
    size_t end = std::min(items.size(), i + kBatch);
    batches.emplace_back(std::make_move_iterator(items.begin() + i), std::make_move_iterator(items.begin() + end));
  }
  return batches;
}

}  // namespace

EventWriter::EventWriter(Registry& registry, Clock& clock, EventWriterOptions options)
    : registry_(registry), clock_(clock), options_(options), pending_(options.max_pending) {}

void EventWriter::Record(EventOccurrence occurrence) {
  v1::Event event = EventOf(occurrence, clock_.Now(), kControllerComponent, "");
  recorded_.fetch_add(static_cast<uint64_t>(event.count()), std::memory_order_relaxed);
  pending_.Add(std::move(event));
}

void EventWriter::Report(const std::string& node, std::vector<v1::Event> events) {
  for (v1::Event& event : events) {
    event.set_reporting_component(kAgentComponent);
    event.set_reporting_node(node);
    if (event.count() < 1) event.set_count(1);
    recorded_.fetch_add(static_cast<uint64_t>(event.count()), std::memory_order_relaxed);
    pending_.Add(std::move(event));
  }
}

absl::StatusOr<ReconcileResult> EventWriter::Reconcile(const std::string&) {
  absl::Status result = absl::OkStatus();
  for (const std::vector<v1::Event>& batch : Batches(pending_.Take(options_.max_writes_per_flush))) {
    absl::Status written = WriteBatch(batch);
    if (written.ok()) continue;
    // Kept for the next pass (folded with what arrives meanwhile); the fold's bound still holds.
    for (const v1::Event& event : batch) pending_.Add(event);
    result.Update(written);
  }
  if (clock_.Now() - last_expired_ >= options_.expire_interval) {
    result.Update(Expire());
    if (result.ok()) last_expired_ = clock_.Now();
  }
  if (!result.ok()) return result;
  return ReconcileResult{.requeue_after = options_.flush_interval};
}

absl::Status EventWriter::WriteBatch(const std::vector<v1::Event>& events) {
  absl::Status committed = absl::OkStatus();
  for (int attempt = 0; attempt <= kConflictRetries; ++attempt) {
    std::vector<Mutation> mutations;
    for (const v1::Event& event : events) {
      v1::Object object;
      *object.mutable_event() = event;
      int64_t expected = 0;
      absl::StatusOr<KeyValue> stored = registry_.store().Get(StoreKey(object));
      absl::StatusOr<v1::Object> decoded = stored.ok() ? DecodeObject(*stored) : stored.status();
      if (decoded.ok() && decoded->has_event()) {
        expected = stored->mod_revision;
        FoldEvent(*decoded->mutable_event(), event);
        object = *std::move(decoded);
      } else {
        v1::ObjectMeta* meta = object.mutable_event()->mutable_metadata();
        meta->set_uid(absl::StrCat(meta->name(), "-", absl::ToUnixNanos(clock_.Now())));
        meta->set_creation_timestamp(event.first_timestamp());
        meta->set_generation(1);
        FillTypeMeta(&object);
      }
      mutations.push_back({StoreKey(object), EncodeObject(object), expected});
    }
    committed = Wait<int64_t>([&](auto done) { registry_.store().Commit(std::move(mutations), done); }).status();
    if (committed.ok()) written_.fetch_add(events.size(), std::memory_order_relaxed);
    if (!absl::IsAborted(committed)) return committed;
  }
  return committed;
}

absl::Status EventWriter::Expire() {
  std::vector<v1::Object> events = registry_.ListKind(kKindEvent);
  absl::Time cutoff = clock_.Now() - options_.ttl;
  std::vector<v1::Object> expired;
  std::vector<v1::Object> kept;
  for (v1::Object& event : events) {
    (ParseTimestamp(event.event().last_timestamp()) < cutoff ? expired : kept).push_back(std::move(event));
  }
  if (kept.size() > options_.max_events) {
    // The ones last seen longest ago go first.
    std::sort(kept.begin(), kept.end(), [](const v1::Object& a, const v1::Object& b) {
      return ParseTimestamp(a.event().last_timestamp()) < ParseTimestamp(b.event().last_timestamp());
    });
    size_t excess = kept.size() - options_.max_events;
    expired.insert(expired.end(), kept.begin(), kept.begin() + excess);
  }
  absl::Status result = absl::OkStatus();
  for (std::vector<v1::Object>& batch : Batches(std::move(expired))) {
    absl::Status deleted = Wait<int64_t>([&](auto done) { registry_.DeleteObjects(std::move(batch), done); }).status();
    // One that folded a new occurrence in meanwhile is not stale any more: looked at again next time.
    if (!absl::IsAborted(deleted)) result.Update(deleted);
  }
  return result;
}

}  // namespace opctl::controller
