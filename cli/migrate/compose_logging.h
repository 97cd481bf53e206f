// A compose service's `logging:` as a template's logs: the driver and its options as they are
// (validation names what does not fit), max-size and max-file as logs.maxSize and logs.maxFiles.
#pragma once

#include <string>

#include "cli/migrate/compose_source.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::cli::compose {

// `subject` names the service in warnings; a driver opctl does not take is said and left out.
void ConvertLogging(const Located& logging, const std::string& subject, v1::LogOptions& logs, Reporter& report);

}  // namespace opctl::cli::compose
