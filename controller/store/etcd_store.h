// The Store on an etcd cluster, so several controllers share one state and any of them may go. Writes
// are etcd transactions (ToEtcdTxn); the store revision is etcd's. Reads and watch replays are served
// from a mirror of the keys under the prefix, filled by one etcd watch (prev_kv, progress
// notifications), as the Kubernetes API server's watch cache is: a commit is answered once the mirror
// has it, so a writer reads its own write, and the commit listener sees every controller's writes in
// revision order. The mirror also keeps the last history_revisions of history (loaded from etcd at
// start), so a client may resume a watch on another controller.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/logger.h"
#include "controller/store/etcd_client.h"
#include "controller/store/key_space_store.h"
#include "controller/store/store.h"

namespace opctl::controller {

struct EtcdStoreOptions {
  EtcdOptions etcd;
  std::string prefix = "/opctl";  // the store's keys in etcd start with it: one etcd may serve several
  int64_t history_revisions = 10000;
  int committers = 8;  // transactions in flight at once
  // Without a word from etcd for this long (the watch asks for progress every progress_interval),
  // reads say they may be stale and the watch moves to another endpoint.
  absl::Duration stale_after = absl::Seconds(3);
  absl::Duration progress_interval = absl::Milliseconds(500);
  // Open keeps trying the endpoints (saying why each failed) this long; infinite: until one answers.
  absl::Duration connect_timeout = absl::InfiniteDuration();
  Logger* logger = &Logger::Stderr();
};

class EtcdStore : public KeySpaceStore {
 public:
  // Connects, loads the keys under the prefix and the recent history, and starts the watch.
  static absl::StatusOr<std::unique_ptr<EtcdStore>> Open(EtcdStoreOptions options);
  ~EtcdStore() override;  // answers queued commits UNAVAILABLE, then stops

  using Store::Commit;
  void Commit(Transaction transaction, CommitCallback done) override;
  absl::Status ReadsCurrent() const override;
  absl::Status Compact(int64_t revision) override;

  EtcdClient& client() { return *client_; }

 private:
  struct PendingCommit {
    Transaction transaction;
    CommitCallback done;
  };
  struct Waiter {
    absl::Time deadline;
    bool needs_event;  // the mirror must have the revision's events, not only etcd's word that it passed
    std::function<void()> then;
  };
  using Stream = grpc::ClientReaderWriter<etcdserverpb::WatchRequest, etcdserverpb::WatchResponse>;

  EtcdStore(EtcdStoreOptions options, std::unique_ptr<EtcdClient> client);
  // The keys under the prefix at one revision, paged; the revision read at.
  absl::StatusOr<int64_t> ReadSnapshot(std::map<std::string, KeyValue, std::less<>>& into);
  absl::Status Load();
  void WatchLoop();
  // The request that starts a watch where the mirror is; none when closing.
  std::optional<etcdserverpb::WatchRequest> CreateRequest();
  // Why etcd cancelled the watch; after a compaction it fell behind, the keys are read again first.
  absl::Status Cancelled(const etcdserverpb::WatchResponse& response);
  // One watch stream on `endpoint` from the mirror's revision on; returns when it ends, saying why.
  absl::Status WatchOn(const EtcdClient::Endpoint& endpoint);
  // A response's events, one revision at a time, into the mirror and to the listener.
  void Deliver(const etcdserverpb::WatchResponse& response);
  void Progressed(int64_t revision);
  // Once the history replay reached the snapshot, watches may resume from history_from_ on.
  void MaybeHistoryComplete() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  // The watch fell behind etcd's compaction: the keys read again, the difference delivered as one revision.
  absl::Status Relist();
  void TickerLoop();
  void CommitterLoop();
  void CommitOne(PendingCommit pending);
  // Runs `then` once the mirror reaches `revision` (or, if it lags, after the request timeout).
  void WhenMirrorReaches(int64_t revision, bool needs_event, std::function<void()> then);
  // Runs the waiters whose revision was reached or whose deadline passed by `now`.
  void FireWaiters(absl::Time now);
  void Log(absl::string_view message) { options_.logger->Log("etcd-store", message); }

  const EtcdStoreOptions options_;
  const std::unique_ptr<EtcdClient> client_;

  // The keys were read at snapshot_revision_; the watch then replays history from history_from_ on
  // (events up to the snapshot go to the history only). delivered_: the newest revision handled.
  int64_t snapshot_revision_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t history_from_ ABSL_GUARDED_BY(mutex_) = 1;
  int64_t delivered_ ABSL_GUARDED_BY(mutex_) = 0;
  int64_t progressed_ ABSL_GUARDED_BY(mutex_) = 0;  // the newest revision etcd said the watch has passed
  int progress_past_snapshot_ ABSL_GUARDED_BY(mutex_) = 0;
  absl::Time last_heard_ ABSL_GUARDED_BY(mutex_);
  std::string last_error_ ABSL_GUARDED_BY(mutex_);
  std::multimap<int64_t, Waiter> waiters_ ABSL_GUARDED_BY(mutex_);
  bool progress_wanted_ ABSL_GUARDED_BY(mutex_) = false;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;

  absl::Mutex stream_mutex_;  // one writer on the stream at a time; the context to cancel it
  Stream* stream_ ABSL_GUARDED_BY(stream_mutex_) = nullptr;
  grpc::ClientContext* stream_context_ ABSL_GUARDED_BY(stream_mutex_) = nullptr;
  bool streams_cancelled_ ABSL_GUARDED_BY(stream_mutex_) = false;  // closing: no stream may stay open

  absl::Mutex queue_mutex_;
  std::deque<PendingCommit> queue_ ABSL_GUARDED_BY(queue_mutex_);
  bool closing_ ABSL_GUARDED_BY(queue_mutex_) = false;

  std::thread watcher_;
  std::thread ticker_;
  std::vector<std::thread> committers_;
};

}  // namespace opctl::controller
