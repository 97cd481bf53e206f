// What both stores answer from the KeySpace they hold in memory, under one reader lock: the reads,
// the revisions, the history and the commit listener. A store derives from it and keeps `keys_`
// as what it has made durable (SQLite) or mirrored (etcd).
//
// Thread-safe.
#pragma once

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "controller/store/key_space.h"
#include "controller/store/store.h"

namespace opctl::controller {

class KeySpaceStore : public Store {
 public:
  absl::StatusOr<KeyValue> Get(absl::string_view key) const override {
    absl::ReaderMutexLock lock(&mutex_);
    return keys_.Get(key);
  }
  RangeResult Range(absl::string_view prefix) const override {
    absl::ReaderMutexLock lock(&mutex_);
    return keys_.Range(prefix);
  }
  RangeResult RangePage(absl::string_view prefix, absl::string_view after, size_t limit) const override {
    absl::ReaderMutexLock lock(&mutex_);
    return keys_.RangePage(prefix, after, limit);
  }
  int64_t Revision() const override {
    absl::ReaderMutexLock lock(&mutex_);
    return keys_.revision();
  }
  int64_t CompactedRevision() const override {
    absl::ReaderMutexLock lock(&mutex_);
    return keys_.compacted_revision();
  }
  absl::StatusOr<std::vector<Event>> EventsAfter(int64_t after) const override {
    absl::ReaderMutexLock lock(&mutex_);
    return keys_.EventsAfter(after);
  }
  void SetCommitListener(CommitListener listener) override {
    absl::MutexLock lock(&mutex_);
    listener_ = std::move(listener);
  }

 protected:
  mutable absl::Mutex mutex_;
  KeySpace keys_ ABSL_GUARDED_BY(mutex_);
  CommitListener listener_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace opctl::controller
