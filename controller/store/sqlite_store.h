// The default Store: embedded SQLite in WAL mode with synchronous=FULL, so a commit is on disk before
// it is acknowledged. The current key space and the uncompacted history are also held in memory, so
// reads and watch replays never touch the disk; one writer thread owns the database connection and
// groups concurrent commits into one transaction (one fsync for many writers).
//
// Thread-safe: readers take mutex_ shared; the writer thread alone mutates.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "controller/store/key_space_store.h"
#include "controller/store/sqlite_statement.h"
#include "controller/store/store.h"

struct sqlite3;

namespace opctl::controller {

struct SqliteStoreOptions {
  // History older than this many revisions is compacted in the background.
  int64_t history_revisions = 10000;
  // Most transactions grouped into one disk sync.
  int max_batch = 1000;
};

class SqliteStore : public KeySpaceStore {
 public:
  // Opens (or creates) DIR/opctl.db, checks its integrity and loads it. Errors name the file.
  static absl::StatusOr<std::unique_ptr<SqliteStore>> Open(const std::string& directory,
                                                           SqliteStoreOptions options = {});
  ~SqliteStore() override;  // finishes queued commits, then closes

  using Store::Commit;
  void Commit(Transaction transaction, CommitCallback done) override;
  absl::Status Compact(int64_t revision) override;
  uint64_t Syncs() const override { return syncs_.load(std::memory_order_relaxed); }

 private:
  struct PendingCommit {
    Transaction transaction;
    CommitCallback done;
  };
  // A transaction checked against the state including earlier transactions of the same batch.
  struct PreparedCommit {
    absl::Status status;
    int64_t revision = 0;
    std::vector<Event> events;
  };

  SqliteStore(sqlite3* db, std::string path, SqliteStoreOptions options);
  absl::Status Load();
  void WriterLoop();
  void WriteBatch(std::vector<PendingCommit>& batch);
  PreparedCommit Prepare(const Transaction& transaction, int64_t revision,
                         std::map<std::string, std::optional<KeyValue>>& overlay) const;
  // OK when `condition` holds on the committed state and the batch's `overlay`; ABORTED otherwise.
  absl::Status Check(const Precondition& condition,
                     const std::map<std::string, std::optional<KeyValue>>& overlay) const;
  absl::Status Persist(const std::vector<PreparedCommit>& prepared, int64_t revision, int64_t compact_to);
  // Within Persist's transaction: every event's key and history row; the step that failed, or null.
  static const char* WriteEvents(const std::vector<PreparedCommit>& prepared, Statement& put, Statement& erase,
                                 Statement& log);
  // After Persist: the same commits into kv_ and history_, and the compaction.
  void ApplyInMemory(const std::vector<PreparedCommit>& prepared, int64_t revision, int64_t compact_to)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  absl::Status Exec(const char* sql);
  absl::Status SqliteError(const char* what) const;

  sqlite3* const db_;  // used by the writer thread only (and by Load before it starts)
  const std::string path_;
  const SqliteStoreOptions options_;

  absl::Mutex queue_mutex_;
  std::deque<PendingCommit> queue_ ABSL_GUARDED_BY(queue_mutex_);
  std::optional<int64_t> compact_request_ ABSL_GUARDED_BY(queue_mutex_);
  bool stopping_ ABSL_GUARDED_BY(queue_mutex_) = false;
  std::thread writer_;
  std::atomic<uint64_t> syncs_{0};  // batches written (the writer thread counts)
};

}  // namespace opctl::controller
