// The in-memory side of a store: the current keys and the uncompacted history, with the reads the
// Store interface promises. SqliteStore keeps it as what its disk holds; EtcdStore as its mirror of
// etcd (filled by a watch). Not thread-safe: its owner guards it.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "controller/store/store.h"

namespace opctl::controller {

class KeySpace {
 public:
  const KeyValue* Find(absl::string_view key) const;
  absl::StatusOr<KeyValue> Get(absl::string_view key) const;
  RangeResult Range(absl::string_view prefix) const;
  RangeResult RangePage(absl::string_view prefix, absl::string_view after, size_t limit) const;
  // OUT_OF_RANGE below the compacted revision.
  absl::StatusOr<std::vector<Event>> EventsAfter(int64_t after) const;
  // Whether a key under `prefix` was created or changed after `revision` (from the history when it
  // reaches back so far, which also sees deletions; from the keys' mod revisions otherwise).
  bool ChangedUnderPrefixSince(absl::string_view prefix, int64_t revision) const;
  // The map of the current keys, for whoever must walk all of them.
  const std::map<std::string, KeyValue, std::less<>>& keys() const { return kv_; }

  // One event of a committed revision: the key changes and the event joins the history.
  void Apply(const Event& event);
  // A key as loaded from disk or a listing, without history.
  void Load(KeyValue kv) { kv_[kv.key] = std::move(kv); }
  void LoadHistory(Event event) { history_.push_back(std::move(event)); }
  void Clear();
  void set_revision(int64_t revision) { revision_ = revision; }
  int64_t revision() const { return revision_; }
  // Drops the history up to and including `revision`.
  void CompactTo(int64_t revision);
  int64_t compacted_revision() const { return compacted_revision_; }
  void set_compacted_revision(int64_t revision) { compacted_revision_ = revision; }

 private:
  std::map<std::string, KeyValue, std::less<>> kv_;
  std::deque<Event> history_;  // events after compacted_revision_, in revision order
  // As in etcd, an empty store is at revision 1: "list at revision R, then watch after R" works from
  // the very start, and 0 stays free to mean "from now".
  int64_t revision_ = 1;
  int64_t compacted_revision_ = 0;
};

}  // namespace opctl::controller
