#include "controller/watch_hub.h"

#include <cstdio>

namespace opctl::controller {
namespace {

std::vector<ChangePtr> DecodeAll(const std::vector<Event>& events) {
  std::vector<ChangePtr> changes;
  changes.reserve(events.size());
  for (const Event& event : events) {
    absl::StatusOr<ObjectChange> change = DecodeChange(event);
    if (!change.ok()) {
      // Only objects are stored under watched keys; anything else is corruption worth a line, not a crash.
      std::fprintf(stderr, "watch: skipping %s\n", change.status().ToString().c_str());
      continue;
    }
    changes.push_back(std::make_shared<const ObjectChange>(*std::move(change)));
  }
  return changes;
}

}  // namespace

WatchHub::WatchHub(Store& store, absl::Duration bookmark_interval)
    : store_(store), bookmark_interval_(bookmark_interval) {
  store_.SetCommitListener([this](int64_t revision, const std::vector<Event>& events) { OnCommit(revision, events); });
  bookmark_thread_ = std::thread([this] { BookmarkLoop(); });
}

WatchHub::~WatchHub() {
  store_.SetCommitListener(nullptr);
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  bookmark_thread_.join();
}

absl::StatusOr<uint64_t> WatchHub::Subscribe(int64_t after_revision, Sink sink) {
  absl::MutexLock lock(&mutex_);
  int64_t delivered = after_revision;
  if (after_revision == 0) {
    delivered = store_.Revision();
  } else {
    // Read under mutex_: a commit landing meanwhile waits in OnCommit and is filtered by revision.
    absl::StatusOr<std::vector<Event>> history = store_.EventsAfter(after_revision);
    if (!history.ok()) return history.status();
    if (!history->empty()) {
      delivered = history->back().kv.mod_revision;
      if (!sink(DecodeAll(*history), delivered)) return 0;
    } else {
      delivered = std::max(after_revision, store_.Revision());
    }
  }
  uint64_t id = next_id_++;
  subscribers_[id] = Subscriber{std::move(sink), delivered};
  return id;
}

void WatchHub::Unsubscribe(uint64_t id) {
  absl::MutexLock lock(&mutex_);
  subscribers_.erase(id);
}

void WatchHub::OnCommit(int64_t revision, const std::vector<Event>& events) {
  std::vector<ChangePtr> changes = DecodeAll(events);
  absl::MutexLock lock(&mutex_);
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    Subscriber& subscriber = it->second;
    if (subscriber.revision >= revision) {  // already replayed by Subscribe
      ++it;
      continue;
    }
    subscriber.revision = revision;
    it = subscriber.sink(changes, revision) ? std::next(it) : subscribers_.erase(it);
  }
}

void WatchHub::BookmarkLoop() {
  absl::MutexLock lock(&mutex_);
  while (!stopping_) {
    mutex_.AwaitWithTimeout(absl::Condition(&stopping_), bookmark_interval_);
    if (stopping_) break;
    for (auto it = subscribers_.begin(); it != subscribers_.end();) {
      it = it->second.sink({}, it->second.revision) ? std::next(it) : subscribers_.erase(it);
    }
  }
}

}  // namespace opctl::controller
