#include "controller/store/key_space.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace opctl::controller {

const KeyValue* KeySpace::Find(absl::string_view key) const {
  auto found = kv_.find(key);
  return found == kv_.end() ? nullptr : &found->second;
}

absl::StatusOr<KeyValue> KeySpace::Get(absl::string_view key) const {
  const KeyValue* kv = Find(key);
  if (kv == nullptr) return absl::NotFoundError(absl::StrCat(key, " not found"));
  return *kv;
}

RangeResult KeySpace::Range(absl::string_view prefix) const {
  RangeResult result;
  result.revision = revision_;
  for (auto it = kv_.lower_bound(prefix); it != kv_.end() && absl::StartsWith(it->first, prefix); ++it) {
    result.kvs.push_back(it->second);
  }
  return result;
}

RangeResult KeySpace::RangePage(absl::string_view prefix, absl::string_view after, size_t limit) const {
  RangeResult result;
  result.revision = revision_;
  auto it = after.empty() ? kv_.lower_bound(prefix) : kv_.upper_bound(after);
  if (!after.empty() && it != kv_.end() && it->first < prefix) it = kv_.lower_bound(prefix);
  for (; it != kv_.end() && absl::StartsWith(it->first, prefix) && result.kvs.size() < limit; ++it) {
    result.kvs.push_back(it->second);
  }
  return result;
}

absl::StatusOr<std::vector<Event>> KeySpace::EventsAfter(int64_t after) const {
  if (after < compacted_revision_) {
    return absl::OutOfRangeError(absl::StrCat("revision ", after, " is too old: history before ",
                                              compacted_revision_ + 1, " has been compacted; relist"));
  }
  // History is sorted by revision: find the first event after `after` by binary search.
  auto first = std::partition_point(history_.begin(), history_.end(),
                                    [after](const Event& event) { return event.kv.mod_revision <= after; });
  return std::vector<Event>(first, history_.end());
}

bool KeySpace::ChangedUnderPrefixSince(absl::string_view prefix, int64_t revision) const {
  if (revision >= compacted_revision_) {
    // The history after the revision is at hand: only what changed since is looked at.
    auto first = std::partition_point(history_.begin(), history_.end(),
                                      [&](const Event& event) { return event.kv.mod_revision <= revision; });
    return std::any_of(first, history_.end(),
                       [&](const Event& event) { return absl::StartsWith(event.kv.key, prefix); });
  }
  for (auto it = kv_.lower_bound(prefix); it != kv_.end() && absl::StartsWith(it->first, prefix); ++it) {
    if (it->second.mod_revision > revision) return true;
  }
  return false;
}

void KeySpace::Apply(const Event& event) {
  if (event.type == Event::Type::kPut)
    kv_[event.kv.key] = event.kv;
  else
    kv_.erase(event.kv.key);
  history_.push_back(event);
  revision_ = std::max(revision_, event.kv.mod_revision);
}

void KeySpace::Clear() {
  kv_.clear();
  history_.clear();
}

void KeySpace::CompactTo(int64_t revision) {
  if (revision <= compacted_revision_) return;
  compacted_revision_ = revision;
  while (!history_.empty() && history_.front().kv.mod_revision <= revision) history_.pop_front();
}

}  // namespace opctl::controller
