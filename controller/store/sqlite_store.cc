#include "controller/store/sqlite_store.h"

#include <sqlite3.h>

#include <filesystem>
#include <future>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "controller/store/sqlite_statement.h"

namespace opctl::controller {
namespace {

constexpr const char* kSchema = R"sql(
  CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY, value BLOB NOT NULL,
    create_revision INTEGER NOT NULL, mod_revision INTEGER NOT NULL, version INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS events (
    revision INTEGER NOT NULL, sequence INTEGER NOT NULL, type INTEGER NOT NULL, created INTEGER NOT NULL,
    key TEXT NOT NULL, value BLOB NOT NULL, create_revision INTEGER NOT NULL, version INTEGER NOT NULL,
    prev_value BLOB NOT NULL, PRIMARY KEY (revision, sequence));
  CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
)sql";

}  // namespace

absl::StatusOr<std::unique_ptr<SqliteStore>> SqliteStore::Open(const std::string& directory,
                                                               SqliteStoreOptions options) {
  std::error_code error;
  std::filesystem::create_directories(directory, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("cannot create data directory ", directory, ": ", error.message()));
  }
  std::string path = absl::StrCat(directory, "/opctl.db");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr) !=
      SQLITE_OK) {
    std::string message = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("cannot open ", path, ": ", message));
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(db, path, options));
  if (absl::Status loaded = store->Load(); !loaded.ok()) return loaded;
  store->writer_ = std::thread([raw = store.get()] { raw->WriterLoop(); });
  return store;
}

SqliteStore::SqliteStore(sqlite3* db, std::string path, SqliteStoreOptions options)
    : db_(db), path_(std::move(path)), options_(options) {}

SqliteStore::~SqliteStore() {
  {
    absl::MutexLock lock(&queue_mutex_);
    stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  sqlite3_close(db_);
}

absl::Status SqliteStore::SqliteError(const char* what) const {
  int code = sqlite3_errcode(db_);
  std::string message = absl::StrCat(what, " in ", path_, ": ", sqlite3_errmsg(db_));
  if (code == SQLITE_FULL) return absl::ResourceExhaustedError(absl::StrCat("disk full: ", message));
  if (code == SQLITE_CORRUPT || code == SQLITE_NOTADB) return absl::DataLossError(message);
  return absl::InternalError(message);
}

absl::Status SqliteStore::Exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return SqliteError(sql);
  return absl::OkStatus();
}

absl::Status SqliteStore::Load() {
  // synchronous=FULL: a commit returns only after the WAL is synced, so an acknowledged write survives
  // kill -9 and power loss.
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", "PRAGMA busy_timeout=5000"}) {
    if (absl::Status status = Exec(pragma); !status.ok()) return status;
  }
  {
    Statement check(db_, "PRAGMA quick_check");
    if (!check.ok() || sqlite3_step(check.get()) != SQLITE_ROW || check.ColumnText(0) != "ok") {
      return absl::DataLossError(absl::StrCat("integrity check of ", path_,
                                              " failed: ", check.ok() ? check.ColumnText(0) : sqlite3_errmsg(db_)));
    }
  }
  if (absl::Status status = Exec(kSchema); !status.ok()) return status;

  absl::MutexLock lock(&mutex_);
  Statement meta(db_, "SELECT name, value FROM meta");
  while (sqlite3_step(meta.get()) == SQLITE_ROW) {
    std::string name = meta.ColumnText(0);
    if (name == "revision") keys_.set_revision(meta.ColumnInt(1));
    if (name == "compacted") keys_.set_compacted_revision(meta.ColumnInt(1));
  }
  Statement kv(db_, "SELECT key, value, create_revision, mod_revision, version FROM kv");
  while (sqlite3_step(kv.get()) == SQLITE_ROW) {
    keys_.Load(KeyValue{kv.ColumnText(0), kv.ColumnText(1), kv.ColumnInt(2), kv.ColumnInt(3), kv.ColumnInt(4)});
  }
  Statement events(db_,
                   "SELECT revision, type, created, key, value, create_revision, version, prev_value FROM events "
                   "ORDER BY revision, sequence");
  while (sqlite3_step(events.get()) == SQLITE_ROW) {
    Event event;
    event.kv.mod_revision = events.ColumnInt(0);
    event.type = events.ColumnInt(1) == 0 ? Event::Type::kPut : Event::Type::kDelete;
    event.created = events.ColumnInt(2) != 0;
    event.kv.key = events.ColumnText(3);
    event.kv.value = events.ColumnText(4);
    event.kv.create_revision = events.ColumnInt(5);
    event.kv.version = events.ColumnInt(6);
    event.prev_value = events.ColumnText(7);
    keys_.LoadHistory(std::move(event));
  }
  return absl::OkStatus();
}

void SqliteStore::Commit(Transaction transaction, CommitCallback done) {
  if (transaction.fence) {
    done(absl::InvalidArgumentError(
        "the SQLite store has no election to fence on: several controllers need --store etcd"));
    return;
  }
  absl::MutexLock lock(&queue_mutex_);
  if (stopping_) {
    done(absl::UnavailableError("the store is closing"));
    return;
  }
  queue_.push_back({std::move(transaction), std::move(done)});
}

absl::Status SqliteStore::Compact(int64_t revision) {
  std::promise<absl::Status> promise;
  auto result = promise.get_future();
  {
    absl::MutexLock lock(&queue_mutex_);
    compact_request_ = std::max(compact_request_.value_or(0), revision);
    queue_.push_back({{}, [&promise](absl::StatusOr<int64_t> revision) { promise.set_value(revision.status()); }});
  }
  return result.get();
}

void SqliteStore::WriterLoop() {
  while (true) {
    std::vector<PendingCommit> batch;
    {
      absl::MutexLock lock(&queue_mutex_);
      queue_mutex_.Await(absl::Condition(
          +[](SqliteStore* self) ABSL_NO_THREAD_SAFETY_ANALYSIS { return self->stopping_ || !self->queue_.empty(); },
          this));
      if (queue_.empty() && stopping_) return;
      while (!queue_.empty() && static_cast<int>(batch.size()) < options_.max_batch) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    WriteBatch(batch);
    syncs_.fetch_add(1, std::memory_order_relaxed);
  }
}

absl::Status SqliteStore::Check(const Precondition& condition,
                                const std::map<std::string, std::optional<KeyValue>>& overlay) const {
  mutex_.AssertReaderHeld();
  auto aborted = [&](const std::string& what) {
    return absl::AbortedError(
        absl::StrCat(condition.key, " ", what, " since revision ", condition.revision, ": read again and retry"));
  };
  if (!condition.prefix) {
    int64_t actual = 0;
    if (auto it = overlay.find(condition.key); it != overlay.end()) {
      actual = it->second ? it->second->mod_revision : 0;
    } else if (const KeyValue* stored = keys_.Find(condition.key)) {
      actual = stored->mod_revision;
    }
    return actual == condition.revision ? absl::OkStatus() : aborted("changed");
  }
  // Earlier transactions of this batch come after every committed revision.
  if (auto it = overlay.lower_bound(condition.key); it != overlay.end() && absl::StartsWith(it->first, condition.key)) {
    return aborted("had a key changed");
  }
  return keys_.ChangedUnderPrefixSince(condition.key, condition.revision) ? aborted("had a key changed")
                                                                          : absl::OkStatus();
}

SqliteStore::PreparedCommit SqliteStore::Prepare(const Transaction& transaction, int64_t revision,
                                                 std::map<std::string, std::optional<KeyValue>>& overlay) const {
  PreparedCommit prepared;
  prepared.revision = revision;
  for (const Precondition& condition : transaction.preconditions) {
    if (absl::Status held = Check(condition, overlay); !held.ok()) {
      prepared.status = held;
      return prepared;
    }
  }
  const std::vector<Mutation>& mutations = transaction.mutations;
  // The state as earlier transactions of this batch left it; keys_ is only changed by this thread.
  auto current = [&](const std::string& key) -> std::optional<KeyValue> {
    if (auto it = overlay.find(key); it != overlay.end()) return it->second;
    mutex_.AssertReaderHeld();
    if (const KeyValue* stored = keys_.Find(key)) return *stored;
    return std::nullopt;
  };
  std::map<std::string, std::optional<KeyValue>> changes;
  for (const Mutation& mutation : mutations) {
    if (changes.count(mutation.key)) {
      prepared.status = absl::InvalidArgumentError(absl::StrCat(mutation.key, " is changed twice in one transaction"));
      return prepared;
    }
    std::optional<KeyValue> existing = current(mutation.key);
    if (mutation.expected_mod_revision) {
      int64_t actual = existing ? existing->mod_revision : 0;
      if (actual != *mutation.expected_mod_revision) {
        prepared.status = absl::AbortedError(absl::StrCat(mutation.key, " was modified: expected revision ",
                                                          *mutation.expected_mod_revision, ", found ",
                                                          actual == 0 ? "none (absent)" : absl::StrCat(actual)));
        return prepared;
      }
    }
    Event event;
    if (mutation.value) {
      event.type = Event::Type::kPut;
      event.created = !existing;
      event.kv = KeyValue{mutation.key, *mutation.value, existing ? existing->create_revision : revision, revision,
                          existing ? existing->version + 1 : 1};
      if (existing) event.prev_value = existing->value;
      changes[mutation.key] = event.kv;
    } else {
      if (!existing) continue;
      event.type = Event::Type::kDelete;
      event.kv = *existing;
      event.kv.mod_revision = revision;
      changes[mutation.key] = std::nullopt;
    }
    prepared.events.push_back(std::move(event));
  }
  for (auto& [key, value] : changes) overlay[key] = std::move(value);
  return prepared;
}

void SqliteStore::WriteBatch(std::vector<PendingCommit>& batch) {
  std::vector<PreparedCommit> prepared;
  std::map<std::string, std::optional<KeyValue>> overlay;
  int64_t revision = 0;
  int64_t compact_to = 0;
  {
    absl::ReaderMutexLock lock(&mutex_);
    revision = keys_.revision();
    compact_to = keys_.compacted_revision();
    for (PendingCommit& pending : batch) {
      PreparedCommit commit = Prepare(pending.transaction, revision + 1, overlay);
      if (commit.status.ok() && !commit.events.empty()) ++revision;
      if (commit.status.ok() && commit.events.empty()) commit.revision = revision;
      prepared.push_back(std::move(commit));
    }
    // Background compaction rides along with writes: keep history_revisions, trim in steps.
    if (revision - keys_.compacted_revision() > options_.history_revisions + options_.history_revisions / 10) {
      compact_to = revision - options_.history_revisions;
    }
  }
  {
    absl::MutexLock lock(&queue_mutex_);
    if (compact_request_) compact_to = std::max(compact_to, std::min(*compact_request_, revision));
    compact_request_.reset();
  }

  absl::Status persisted = Persist(prepared, revision, compact_to);
  CommitListener listener;
  {
    absl::MutexLock lock(&mutex_);
    // Memory follows the disk only once the disk has it: nothing unsynced is ever read or watched.
    if (persisted.ok()) ApplyInMemory(prepared, revision, compact_to);
    listener = listener_;
  }
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!persisted.ok()) {
      batch[i].done(persisted);
      continue;
    }
    if (prepared[i].status.ok() && !prepared[i].events.empty() && listener) {
      listener(prepared[i].revision, prepared[i].events);
    }
    if (prepared[i].status.ok())
      batch[i].done(prepared[i].revision);
    else
      batch[i].done(prepared[i].status);
  }
}

void SqliteStore::ApplyInMemory(const std::vector<PreparedCommit>& prepared, int64_t revision, int64_t compact_to) {
  for (const PreparedCommit& commit : prepared) {
    if (!commit.status.ok()) continue;
    for (const Event& event : commit.events) keys_.Apply(event);
  }
  keys_.set_revision(revision);
  keys_.CompactTo(compact_to);
}

absl::Status SqliteStore::Persist(const std::vector<PreparedCommit>& prepared, int64_t revision, int64_t compact_to) {
  bool has_changes = false;
  for (const PreparedCommit& commit : prepared) has_changes |= commit.status.ok() && !commit.events.empty();
  int64_t compacted = CompactedRevision();
  if (!has_changes && compact_to <= compacted) return absl::OkStatus();

  if (absl::Status status = Exec("BEGIN IMMEDIATE"); !status.ok()) return status;
  auto fail = [&](const char* what) {
    absl::Status status = SqliteError(what);
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    return status;
  };
  Statement put(db_,
                "INSERT INTO kv (key, value, create_revision, mod_revision, version) VALUES (?1, ?2, ?3, ?4, ?5) "
                "ON CONFLICT(key) DO UPDATE SET value = ?2, mod_revision = ?4, version = ?5");
  Statement erase(db_, "DELETE FROM kv WHERE key = ?1");
  Statement log(db_,
                "INSERT INTO events (revision, sequence, type, created, key, value, create_revision, version, "
                "prev_value) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  if (!put.ok() || !erase.ok() || !log.ok()) return fail("preparing statements");
  if (const char* failed = WriteEvents(prepared, put, erase, log)) return fail(failed);
  Statement meta(db_, "INSERT INTO meta (name, value) VALUES (?1, ?2) ON CONFLICT(name) DO UPDATE SET value = ?2");
  meta.BindText(1, "revision");
  meta.BindInt(2, revision);
  if (meta.Run() != SQLITE_DONE) return fail("writing the revision");
  if (compact_to > compacted) {
    Statement trim(db_, "DELETE FROM events WHERE revision <= ?1");
    trim.BindInt(1, compact_to);
    if (trim.Run() != SQLITE_DONE) return fail("compacting history");
    meta.BindText(1, "compacted");
    meta.BindInt(2, compact_to);
    if (meta.Run() != SQLITE_DONE) return fail("writing the compacted revision");
  }
  if (sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) return fail("committing");
  return absl::OkStatus();
}

const char* SqliteStore::WriteEvents(const std::vector<PreparedCommit>& prepared, Statement& put, Statement& erase,
                                     Statement& log) {
  for (const PreparedCommit& commit : prepared) {
    if (!commit.status.ok()) continue;
    int sequence = 0;
    for (const Event& event : commit.events) {
      if (event.type == Event::Type::kPut) {
        put.BindText(1, event.kv.key);
        put.BindBlob(2, event.kv.value);
        put.BindInt(3, event.kv.create_revision);
        put.BindInt(4, event.kv.mod_revision);
        put.BindInt(5, event.kv.version);
        if (put.Run() != SQLITE_DONE) return "writing a key";
      } else {
        erase.BindText(1, event.kv.key);
        if (erase.Run() != SQLITE_DONE) return "deleting a key";
      }
      log.BindInt(1, commit.revision);
      log.BindInt(2, sequence++);
      log.BindInt(3, event.type == Event::Type::kPut ? 0 : 1);
      log.BindInt(4, event.created ? 1 : 0);
      log.BindText(5, event.kv.key);
      log.BindBlob(6, event.kv.value);
      log.BindInt(7, event.kv.create_revision);
      log.BindInt(8, event.kv.version);
      log.BindBlob(9, event.prev_value);
      if (log.Run() != SQLITE_DONE) return "writing history";
    }
  }
  return nullptr;
}

}  // namespace opctl::controller
