#include "common/conditions.h"

#include "common/clock.h"

namespace opctl {

void SetCondition(Conditions* conditions, const std::string& type, bool status, const std::string& reason,
                  const std::string& message, absl::Time now) {
  v1::Condition* condition = nullptr;
  for (v1::Condition& existing : *conditions) {
    if (existing.type() == type) condition = &existing;
  }
  if (condition == nullptr) {
    condition = conditions->Add();
    condition->set_type(type);
  }
  std::string value = status ? "True" : "False";
  if (condition->status() != value) condition->set_last_transition_time(FormatTimestamp(now));
  condition->set_status(value);
  condition->set_reason(reason);
  condition->set_message(message);
}

const v1::Condition* FindCondition(const Conditions& conditions, const std::string& type) {
  for (const v1::Condition& condition : conditions) {
    if (condition.type() == type) return &condition;
  }
  return nullptr;
}

std::string ConditionStatus(const Conditions& conditions, const std::string& type) {
  const v1::Condition* condition = FindCondition(conditions, type);
  return condition == nullptr ? "Unknown" : condition->status();
}

}  // namespace opctl
