// The store seam: a revisioned key-value store with etcd's semantics. One global revision counts every
// committed transaction (an empty store is at revision 1); each key carries the revisions of its creation and last
// change; the history of changes since the compacted revision can be replayed (what watches resume from).
//
// Implementations are thread-safe. Reads see only committed, durable state.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace opctl::controller {

struct KeyValue {
  std::string key;
  std::string value;
  int64_t create_revision = 0;
  int64_t mod_revision = 0;  // for a deletion event: the revision of the deletion
  int64_t version = 0;       // number of writes since creation
};

struct Event {
  enum class Type { kPut, kDelete };
  Type type = Type::kPut;
  KeyValue kv;             // for kDelete: the last value before the deletion
  bool created = false;    // kPut of a key that did not exist
  std::string prev_value;  // kPut of an existing key: its value before (what filtered watches need)
};

// One change inside a transaction.
struct Mutation {
  std::string key;
  std::optional<std::string> value;  // nullopt: delete the key (a missing key is no error)
  // When set, the key's current mod_revision must equal it (0: the key must not exist), or the whole
  // transaction fails with ABORTED.
  std::optional<int64_t> expected_mod_revision;
};

// A condition a transaction commits under, as etcd's Txn compares keys: when it does not hold, the
// whole transaction fails with ABORTED and nothing is applied. What rules across objects (addresses
// unique, subnets apart, references) read is guarded so, and the checks run again on a retry.
struct Precondition {
  std::string key;  // a key, or with `prefix` a key prefix
  bool prefix = false;
  // Not `prefix`: the key's mod_revision equals this (0: the key does not exist).
  // `prefix`: no key under the prefix was created or changed after this revision (etcd: every key
  // in the range has mod_revision <= it). Implementations may also fail on keys deleted after it.
  int64_t revision = 0;
};

// A leader's hold on its election (etcd's leader key and its create revision): a transaction that
// carries one commits only while that key still exists with that create revision, so a deposed
// leader's late write fails (FAILED_PRECONDITION) instead of racing the new leader's.
struct Fence {
  std::string key;  // an etcd key, outside the store's own keys
  int64_t create_revision = 0;
};

struct Transaction {
  std::vector<Mutation> mutations;
  std::vector<Precondition> preconditions;
  std::optional<Fence> fence;  // only stores that elect (etcd) take one; others refuse it
};

struct RangeResult {
  std::vector<KeyValue> kvs;  // sorted by key
  int64_t revision = 0;       // the store revision the range was read at
};

class Store {
 public:
  using CommitCallback = std::function<void(absl::StatusOr<int64_t>)>;
  using CommitListener = std::function<void(int64_t revision, const std::vector<Event>& events)>;

  virtual ~Store() = default;

  // NotFound when the key does not exist.
  virtual absl::StatusOr<KeyValue> Get(absl::string_view key) const = 0;
  // Every key starting with prefix, read at one revision.
  virtual RangeResult Range(absl::string_view prefix) const = 0;
  // At most `limit` keys starting with prefix and sorting after `after` (empty: from the start), read
  // at one revision. The default reads the whole range; implementations do better.
  virtual RangeResult RangePage(absl::string_view prefix, absl::string_view after, size_t limit) const;
  // Applies all mutations atomically as one new revision and makes them durable, then calls `done`
  // with that revision (on the store's writer thread: keep it short, never commit again from it and wait). Concurrent
  // commits are grouped into one disk sync. Errors: ABORTED when an expectation fails, RESOURCE_EXHAUSTED when the disk
  // is full, UNAVAILABLE when the store is closing; nothing is applied then. A transaction that changes nothing answers
  // the current revision.
  virtual void Commit(Transaction transaction, CommitCallback done) = 0;
  // A transaction of mutations alone.
  void Commit(std::vector<Mutation> mutations, CommitCallback done) {
    Commit(Transaction{std::move(mutations), {}, std::nullopt}, std::move(done));
  }
  // Commit, waiting for the answer.
  absl::StatusOr<int64_t> CommitAndWait(std::vector<Mutation> mutations);

  virtual int64_t Revision() const = 0;
  // OK when reads are current; UNAVAILABLE, saying why, when they may be stale (a store that mirrors
  // a remote one and has lost touch with it). A local store is always current.
  virtual absl::Status ReadsCurrent() const { return absl::OkStatus(); }
  // How many writes to disk made commits durable so far, each a group of concurrent commits (commits
  // divided by it is the batch size); 0 where the store does not count them (etcd syncs on its side).
  virtual uint64_t Syncs() const { return 0; }
  // Revisions at or below this one have no history any more.
  virtual int64_t CompactedRevision() const = 0;
  // The events of every revision after `after`, in order (each event once). OUT_OF_RANGE when
  // `after` is below CompactedRevision(): the caller must relist.
  virtual absl::StatusOr<std::vector<Event>> EventsAfter(int64_t after) const = 0;
  // Drops history up to and including `revision`.
  virtual absl::Status Compact(int64_t revision) = 0;
  // Called once per committed revision, in order, after it is durable and before its `done`. Set it
  // before the first Commit.
  virtual void SetCommitListener(CommitListener listener) = 0;
};

}  // namespace opctl::controller
