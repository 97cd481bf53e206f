// Kubernetes-style status conditions, kept the same way by every controller and the agent.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "google/protobuf/repeated_ptr_field.h"
#include "opctl/v1/resources.pb.h"

namespace opctl {

using Conditions = google::protobuf::RepeatedPtrField<v1::Condition>;

// Adds or updates condition `type`. Its lastTransitionTime moves to `now` only when its status changes.
void SetCondition(Conditions* conditions, const std::string& type, bool status, const std::string& reason,
                  const std::string& message, absl::Time now);
// "True", "False", or "Unknown" when the condition is absent.
std::string ConditionStatus(const Conditions& conditions, const std::string& type);
// The condition, or nullptr.
const v1::Condition* FindCondition(const Conditions& conditions, const std::string& type);

}  // namespace opctl
