#include "controller/watch_filter.h"

#include "absl/strings/str_cat.h"
#include "common/api_names.h"
#include "common/object.h"
#include "common/quote.h"

namespace opctl::controller {

absl::StatusOr<WatchFilter> WatchFilter::Create(const v1::WatchRequest& request) {
  WatchFilter filter;
  if (!request.kind().empty()) {
    const KindInfo* info = FindKind(request.kind());
    if (info == nullptr) {
      return absl::InvalidArgumentError(
          absl::StrCat("unknown kind ", Quote(request.kind()), "; known kinds: ", KnownKindNames()));
    }
    filter.kind_ = info->kind;
  }
  absl::StatusOr<LabelSelector> selector = LabelSelector::Parse(request.label_selector());
  if (!selector.ok()) return selector.status();
  filter.selector_ = *std::move(selector);
  absl::StatusOr<FieldSelector> fields = FieldSelector::Parse(request.field_selector(), filter.kind_);
  if (!fields.ok()) return fields.status();
  filter.fields_ = *std::move(fields);
  filter.stack_ = request.stack();
  filter.node_name_ = request.node_name();
  return filter;
}

bool WatchFilter::Matches(const v1::Object& object) const {
  std::string kind = KindOf(object);
  if (!kind_.empty() && kind != kind_) return false;
  const v1::ObjectMeta& meta = MetaOf(object);
  if (!stack_.empty() && meta.stack() != stack_) return false;
  if (!node_name_.empty()) {
    // An agent sees the Containers bound to it, its own Node, and every Network and Volume.
    if (kind == kKindContainer && object.container().spec().node_name() != node_name_) return false;
    if (kind == kKindNode && meta.name() != node_name_) return false;
    if (kind == kKindService || kind == kKindEvent) return false;
  }
  return selector_.Matches(meta.labels()) && fields_.Matches(object);
}

std::optional<v1::WatchEvent> WatchFilter::ToEvent(const ObjectChange& change) const {
  v1::WatchEvent event;
  event.set_revision(change.revision);
  bool matches_now = Matches(change.object);
  if (change.deleted) {
    if (!matches_now) return std::nullopt;
    event.set_type(v1::WatchEvent::DELETED);
  } else {
    bool matched_before = change.previous && Matches(*change.previous);
    if (matches_now)
      event.set_type(matched_before ? v1::WatchEvent::MODIFIED : v1::WatchEvent::ADDED);
    else if (matched_before)
      event.set_type(v1::WatchEvent::DELETED);
    else
      return std::nullopt;
  }
  *event.mutable_object() = change.object;
  return event;
}

}  // namespace opctl::controller
