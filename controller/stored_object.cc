#include "controller/stored_object.h"

#include "absl/strings/str_cat.h"
#include "common/object.h"

namespace opctl::controller {

absl::StatusOr<v1::Object> DecodeObject(const KeyValue& kv) {
  v1::Object object;
  if (!object.ParseFromString(kv.value) || KindOf(object).empty()) {
    return absl::DataLossError(absl::StrCat("stored object ", kv.key, " does not parse"));
  }
  MutableMetaOf(&object)->set_resource_version(kv.mod_revision);
  return object;
}

std::string EncodeObject(const v1::Object& object) {
  v1::Object copy = object;
  MutableMetaOf(&copy)->set_resource_version(0);
  return copy.SerializeAsString();
}

absl::StatusOr<ObjectChange> DecodeChange(const Event& event) {
  ObjectChange change;
  change.revision = event.kv.mod_revision;
  change.created = event.created;
  change.deleted = event.type == Event::Type::kDelete;
  absl::StatusOr<v1::Object> object = DecodeObject(event.kv);
  if (!object.ok()) return object.status();
  change.object = *std::move(object);
  if (!change.deleted && !event.created) {
    KeyValue previous = event.kv;
    previous.value = event.prev_value;
    absl::StatusOr<v1::Object> decoded = DecodeObject(previous);
    if (decoded.ok()) change.previous = *std::move(decoded);
  }
  return change;
}

}  // namespace opctl::controller
