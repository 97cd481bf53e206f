// Docker's log drivers as a Service's template.logs may name them (compose's `logging:`): which ones
// opctl takes, which options each knows, and which rotate.
#pragma once

#include <string>
#include <vector>

#include "common/validation_checker.h"
#include "opctl/v1/resources.pb.h"

namespace opctl {

inline constexpr char kDefaultLogDriver[] = "json-file";

// The driver a template's logs use: its own, or json-file.
std::string LogDriverOf(const v1::LogOptions& logs);
// Whether Docker rotates this driver's files on the host (logs.maxSize and logs.maxFiles apply).
bool LogDriverRotates(const std::string& driver);
// The drivers opctl takes, in order.
const std::vector<std::string>& LogDrivers();
namespace validation_internal {
// Fails `field`.driver, .options.KEY, .maxSize or .maxFiles where they do not fit together.
void ValidateLogOptions(Checker& check, const v1::LogOptions& logs, const std::string& field);
}  // namespace validation_internal

}  // namespace opctl
