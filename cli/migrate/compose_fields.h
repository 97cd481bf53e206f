// Which compose service fields `opctl convert` maps, and why each of the others is left out.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "cli/migrate/compose_source.h"

namespace opctl::cli::compose {

// Warns of each field of the service's layers that opctl leaves out (naming why), and refuses a field
// compose does not know; x- extension fields are passed over, as compose does.
void CheckServiceFields(const std::string& name, const std::vector<Located>& layers, Reporter& report);

}  // namespace opctl::cli::compose
