// Fan-out of committed changes to watchers. Each subscriber first gets the history after the
// revision it asked for, then every later change, each revision exactly once and in order, then a
// bookmark (an empty batch with the current revision) whenever nothing happened for a while.
//
// The store's writer only hands each commit over (its events are queued); decoding, filtering and
// fan-out run on the hub's own dispatch thread, so no watcher, however many or however slow its
// filter, delays a write. A replay from an old revision is read and delivered without the hub's lock;
// only the short catch-up to the live stream takes it.
//
// Thread-safe. Sinks run on the dispatch thread or the subscribing caller's (with the hub's mutex
// held for the live stream): they must only queue and return.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/store/store.h"
#include "controller/stored_object.h"

namespace opctl::controller {

using ChangePtr = std::shared_ptr<const ObjectChange>;

class WatchHub {
 public:
  // Receives changes (in revision order) and, with an empty vector, bookmarks; `revision` is the
  // revision the subscriber has now seen everything up to. Returning false unsubscribes (the way a
  // sink leaves from inside a call, where Unsubscribe would deadlock).
  using Sink = std::function<bool(const std::vector<ChangePtr>& changes, int64_t revision)>;

  // Becomes `store`'s commit listener. Bookmarks go out every bookmark_interval.
  WatchHub(Store& store, absl::Duration bookmark_interval = absl::Seconds(5));
  ~WatchHub();

  // Replays the changes after `after_revision` (0: none, start now) into `sink`, then keeps it
  // subscribed. OUT_OF_RANGE when that history was compacted. Returns an id for Unsubscribe (0 when the
  // sink already declined during the replay).
  absl::StatusOr<uint64_t> Subscribe(int64_t after_revision, Sink sink);
  // After it returns, the sink is never called again.
  void Unsubscribe(uint64_t id);
  // Waits until every commit up to `revision` was handed to the subscribers; false after `timeout`.
  bool WaitDispatched(int64_t revision, absl::Duration timeout = absl::Seconds(10));

 private:
  struct Subscriber {
    Sink sink;
    int64_t revision = 0;  // everything up to here was delivered
  };
  struct Commit {
    int64_t revision;
    std::vector<Event> events;
  };
  // On the store's writer thread: queues the commit for the dispatch thread.
  void OnCommit(int64_t revision, const std::vector<Event>& events);
  void DispatchLoop();
  void Dispatch(int64_t revision, const std::vector<ChangePtr>& changes) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void BookmarkLoop();

  Store& store_;
  const absl::Duration bookmark_interval_;
  absl::Mutex mutex_;
  std::map<uint64_t, Subscriber> subscribers_ ABSL_GUARDED_BY(mutex_);
  uint64_t next_id_ ABSL_GUARDED_BY(mutex_) = 1;
  int64_t dispatched_revision_ ABSL_GUARDED_BY(mutex_) = 0;  // every commit up to here was handed out
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Mutex queue_mutex_;
  std::deque<Commit> queue_ ABSL_GUARDED_BY(queue_mutex_);
  bool queue_stopping_ ABSL_GUARDED_BY(queue_mutex_) = false;
  std::thread dispatch_thread_;
  std::thread bookmark_thread_;
};

}  // namespace opctl::controller
