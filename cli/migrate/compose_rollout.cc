#include "cli/migrate/compose_rollout.h"

#include "absl/strings/str_cat.h"

namespace opctl::cli::compose {

void ReadUpdateConfig(const Located& update, const std::string& field, v1::RolloutStrategy& rollout, Reporter& report) {
  if (auto parallelism = update.Child("parallelism")) {
    rollout.set_max_unavailable(IntOf(*parallelism, field + ".parallelism", report).value_or(0));
  }
  for (const char* key : {"delay", "monitor", "failure_action", "max_failure_ratio", "order"}) {
    auto value = update.Child(key);
    if (!value || (std::string(key) == "order" && value->node.Scalar() == "stop-first")) continue;  // opctl's order
    report.Warn(*value, absl::StrCat(field, ".", key), "left out: opctl stops a replica, then starts its successor");
  }
}

}  // namespace opctl::cli::compose
