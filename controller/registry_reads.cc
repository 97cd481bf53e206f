// The Registry's reads: one object, a kind, a name range, and the pages of List. They answer from the
// store's memory at once. (registry.cc holds the writes.)
#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/label_selector.h"
#include "common/object.h"
#include "common/quote.h"
#include "controller/registry.h"
#include "controller/stored_object.h"

namespace opctl::controller {
namespace {

absl::Status UnknownKind(const std::string& kind) {
  return absl::InvalidArgumentError(absl::StrCat("unknown kind ", Quote(kind), "; known kinds: ", KnownKindNames()));
}

}  // namespace

absl::StatusOr<v1::Object> Registry::Get(const std::string& kind, const std::string& name) const {
  const KindInfo* info = FindKind(kind);
  if (info == nullptr) return UnknownKind(kind);
  absl::StatusOr<KeyValue> kv = store_.Get(StoreKey(info->kind, name));
  if (absl::IsNotFound(kv.status())) {
    return absl::NotFoundError(absl::StrCat(DisplayName(info->kind, name), " not found"));
  }
  if (!kv.ok()) return kv.status();
  return DecodeObject(*kv);
}

std::optional<v1::Object> Registry::Find(const std::string& kind, const std::string& name) const {
  absl::StatusOr<v1::Object> object = Get(kind, name);
  if (!object.ok()) return std::nullopt;
  return *std::move(object);
}

std::vector<v1::Object> Registry::ListKind(const std::string& kind) const {
  absl::StatusOr<v1::ListResponse> list = List(kind, "", "");
  if (!list.ok()) return {};
  return std::vector<v1::Object>(list->items().begin(), list->items().end());
}

std::vector<v1::Object> Registry::ListNamePrefix(const std::string& kind, const std::string& name_prefix) const {
  std::vector<v1::Object> objects;
  for (const KeyValue& kv : store_.Range(KindPrefix(kind) + name_prefix).kvs) {
    absl::StatusOr<v1::Object> object = DecodeObject(kv);
    if (object.ok()) objects.push_back(*std::move(object));
  }
  return objects;
}

absl::StatusOr<v1::ListResponse> Registry::List(const std::string& kind, const std::string& stack,
                                                const std::string& selector) const {
  std::string prefix(kObjectsPrefix);
  if (!kind.empty()) {
    const KindInfo* info = FindKind(kind);
    if (info == nullptr) return UnknownKind(kind);
    prefix = KindPrefix(info->kind);
  }
  absl::StatusOr<LabelSelector> parsed = LabelSelector::Parse(selector);
  if (!parsed.ok()) return parsed.status();
  RangeResult range = store_.Range(prefix);
  v1::ListResponse response;
  response.set_revision(range.revision);
  for (const KeyValue& kv : range.kvs) {
    absl::StatusOr<v1::Object> object = DecodeObject(kv);
    if (!object.ok()) return object.status();
    const v1::ObjectMeta& meta = MetaOf(*object);
    if (!stack.empty() && meta.stack() != stack) continue;
    if (!parsed->Matches(meta.labels())) continue;
    *response.add_items() = *std::move(object);
  }
  return response;
}

absl::StatusOr<v1::ListResponse> Registry::ListPage(const std::string& kind, const std::string& stack,
                                                    const std::string& selector, int64_t limit,
                                                    const std::string& continue_from,
                                                    const std::function<bool(const v1::Object&)>& keep) const {
  std::string prefix(kObjectsPrefix);
  if (!kind.empty()) {
    const KindInfo* info = FindKind(kind);
    if (info == nullptr) return UnknownKind(kind);
    prefix = KindPrefix(info->kind);
  }
  if (limit < 0) return absl::InvalidArgumentError("limit must not be negative");
  size_t wanted = limit == 0 || limit > static_cast<int64_t>(kMaxListPage) ? kMaxListPage : limit;
  if (!continue_from.empty() && (continue_from.size() > 1024 || !absl::StartsWith(continue_from, prefix))) {
    return absl::InvalidArgumentError("continue is not a token this list gave: list again from the start");
  }
  absl::StatusOr<LabelSelector> parsed = LabelSelector::Parse(selector);
  if (!parsed.ok()) return parsed.status();
  v1::ListResponse response;
  std::string after = continue_from;
  bool first = true;
  while (static_cast<size_t>(response.items_size()) < wanted) {
    // Read a little more than is missing: some keys may be filtered out.
    size_t chunk = std::max<size_t>(wanted - response.items_size(), 64);
    RangeResult range = store_.RangePage(prefix, after, chunk);
    if (first) response.set_revision(range.revision);
    first = false;
    for (const KeyValue& kv : range.kvs) {
      after = kv.key;
      absl::StatusOr<v1::Object> object = DecodeObject(kv);
      if (!object.ok()) return object.status();
      const v1::ObjectMeta& meta = MetaOf(*object);
      if ((!stack.empty() && meta.stack() != stack) || !parsed->Matches(meta.labels()) || (keep && !keep(*object))) {
        continue;
      }
      *response.add_items() = *std::move(object);
      if (static_cast<size_t>(response.items_size()) == wanted) break;
    }
    bool full = static_cast<size_t>(response.items_size()) == wanted;
    if (!full && range.kvs.size() < chunk) return response;  // the end: no continue
  }
  // There may be more: the next page starts after the last key looked at.
  if (!store_.RangePage(prefix, after, 1).kvs.empty()) response.set_continue_(after);
  return response;
}

}  // namespace opctl::controller
