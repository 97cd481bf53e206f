#include "controller/watch_hub.h"

#include <cstdio>

#include "common/logger.h"

namespace opctl::controller {
namespace {

std::vector<ChangePtr> DecodeAll(const std::vector<Event>& events) {
  std::vector<ChangePtr> changes;
  changes.reserve(events.size());
  for (const Event& event : events) {
    absl::StatusOr<ObjectChange> change = DecodeChange(event);
    if (!change.ok()) {
      // Only objects are stored under watched keys; anything else is corruption worth a line, not a crash.
      Logger::Stderr().Error("watch", absl::StrCat("skipping ", change.status().ToString()));
      continue;
    }
    changes.push_back(std::make_shared<const ObjectChange>(*std::move(change)));
  }
  return changes;
}

}  // namespace

WatchHub::WatchHub(Store& store, absl::Duration bookmark_interval)
    : store_(store), bookmark_interval_(bookmark_interval) {
  {
    absl::MutexLock lock(&mutex_);
    dispatched_revision_ = store_.Revision();
  }
  store_.SetCommitListener([this](int64_t revision, const std::vector<Event>& events) { OnCommit(revision, events); });
  dispatch_thread_ = std::thread([this] { DispatchLoop(); });
  bookmark_thread_ = std::thread([this] { BookmarkLoop(); });
}

WatchHub::~WatchHub() {
  store_.SetCommitListener(nullptr);
  {
    absl::MutexLock lock(&queue_mutex_);
    queue_stopping_ = true;
  }
  dispatch_thread_.join();
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  bookmark_thread_.join();
}

absl::StatusOr<uint64_t> WatchHub::Subscribe(int64_t after_revision, Sink sink) {
  int64_t delivered = after_revision;
  if (after_revision != 0) {
    // The bulk of a replay without the hub's lock: live delivery to everyone else goes on meanwhile.
    absl::StatusOr<std::vector<Event>> history = store_.EventsAfter(after_revision);
    if (!history.ok()) return history.status();
    if (!history->empty()) {
      delivered = history->back().kv.mod_revision;
      if (!sink(DecodeAll(*history), delivered)) return 0;
    }
  }
  absl::MutexLock lock(&mutex_);
  if (after_revision == 0) {
    delivered = dispatched_revision_;
  } else if (delivered < dispatched_revision_) {
    // Catch up with what was dispatched while the replay ran; later commits arrive live.
    absl::StatusOr<std::vector<Event>> more = store_.EventsAfter(delivered);
    if (!more.ok()) return more.status();
    std::vector<Event> missed;
    for (Event& event : *more) {
      if (event.kv.mod_revision <= dispatched_revision_) missed.push_back(std::move(event));
    }
    if (!missed.empty() && !sink(DecodeAll(missed), missed.back().kv.mod_revision)) return 0;
    delivered = dispatched_revision_;
  }
  uint64_t id = next_id_++;
  subscribers_[id] = Subscriber{std::move(sink), delivered};
  return id;
}

void WatchHub::Unsubscribe(uint64_t id) {
  absl::MutexLock lock(&mutex_);
  subscribers_.erase(id);
}

bool WatchHub::WaitDispatched(int64_t revision, absl::Duration timeout) {
  absl::MutexLock lock(&mutex_);
  auto done = [this, revision]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return dispatched_revision_ >= revision; };
  return mutex_.AwaitWithTimeout(absl::Condition(&done), timeout);
}

void WatchHub::OnCommit(int64_t revision, const std::vector<Event>& events) {
  absl::MutexLock lock(&queue_mutex_);
  queue_.push_back({revision, events});
}

void WatchHub::DispatchLoop() {
  while (true) {
    std::deque<Commit> batch;
    {
      absl::MutexLock lock(&queue_mutex_);
      queue_mutex_.Await(absl::Condition(
          +[](WatchHub* self) ABSL_NO_THREAD_SAFETY_ANALYSIS { return self->queue_stopping_ || !self->queue_.empty(); },
          this));
      if (queue_.empty()) return;
      batch.swap(queue_);
    }
    for (const Commit& commit : batch) {
      std::vector<ChangePtr> changes = DecodeAll(commit.events);
      absl::MutexLock lock(&mutex_);
      Dispatch(commit.revision, changes);
    }
  }
}

void WatchHub::Dispatch(int64_t revision, const std::vector<ChangePtr>& changes) {
  for (auto it = subscribers_.begin(); it != subscribers_.end();) {
    Subscriber& subscriber = it->second;
    if (subscriber.revision >= revision) {  // already replayed by Subscribe
      ++it;
      continue;
    }
    subscriber.revision = revision;
    it = subscriber.sink(changes, revision) ? std::next(it) : subscribers_.erase(it);
  }
  dispatched_revision_ = std::max(dispatched_revision_, revision);
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
