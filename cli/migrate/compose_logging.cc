#include "cli/migrate/compose_logging.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/log_driver.h"

namespace opctl::cli::compose {

void ConvertLogging(const Located& logging, const std::string& subject, v1::LogOptions& logs, Reporter& report) {
  if (auto driver = logging.Child("driver"); driver && driver->node.Scalar() != kDefaultLogDriver) {
    const std::vector<std::string>& drivers = LogDrivers();
    if (std::find(drivers.begin(), drivers.end(), driver->node.Scalar()) == drivers.end()) {
      report.Warn(*driver, subject + " logging.driver",
                  absl::StrCat("left out (json-file kept): opctl takes ", absl::StrJoin(drivers, ", ")));
      return;
    }
    logs.set_driver(driver->node.Scalar());
  }
  auto options = logging.Child("options");
  if (!options || !options->node.IsMap()) return;
  for (const auto& option : options->node) {
    std::string key = option.first.as<std::string>(), value = option.second.as<std::string>("");
    if (key == "max-size") {
      logs.set_max_size(value);
    } else if (key == "max-file") {
      logs.set_max_files(IntOf(*options->Child(key), subject + " logging.options.max-file", report).value_or(0));
    } else {
      (*logs.mutable_options())[key] = value;
    }
  }
}

}  // namespace opctl::cli::compose
