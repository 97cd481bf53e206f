// What one watcher asked to see, and how a change looks to it: an object that starts matching is
// ADDED, one that stops matching (or is deleted) is DELETED, as Kubernetes' filtered watches do.
// Immutable after Create; thread-safe.
#pragma once

#include <optional>

#include "absl/status/statusor.h"
#include "common/field_selector.h"
#include "common/label_selector.h"
#include "controller/stored_object.h"
#include "opctl/v1/controller.pb.h"

namespace opctl::controller {

class WatchFilter {
 public:
  // INVALID_ARGUMENT for an unknown kind or a bad label or field selector.
  static absl::StatusOr<WatchFilter> Create(const v1::WatchRequest& request);

  bool Matches(const v1::Object& object) const;
  // The event this watcher gets for a change, or nullopt when the change is none of its business.
  std::optional<v1::WatchEvent> ToEvent(const ObjectChange& change) const;

 private:
  std::string kind_;
  std::string stack_;
  std::string node_name_;
  LabelSelector selector_;
  FieldSelector fields_;
};

}  // namespace opctl::controller
