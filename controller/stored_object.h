// How objects are kept in the Store: a serialized opctl.v1.Object under StoreKey(kind, name), with
// metadata.resourceVersion left out of the bytes and filled from the key's mod_revision on reading.
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "controller/store/store.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::controller {

// DataLoss when the bytes do not parse (a corrupted store).
absl::StatusOr<v1::Object> DecodeObject(const KeyValue& kv);
std::string EncodeObject(const v1::Object& object);  // clears resourceVersion in the copy it encodes

// A change of one object, decoded once and shared by every watcher.
struct ObjectChange {
  int64_t revision = 0;
  bool created = false;
  bool deleted = false;
  v1::Object object;                   // new state; for a deletion the last state
  std::optional<v1::Object> previous;  // state before a modification
};

absl::StatusOr<ObjectChange> DecodeChange(const Event& event);

}  // namespace opctl::controller
