// Which compose service fields `opctl convert` maps, and why each of the others is left out.
// Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/migrate/compose_source.h"

namespace opctl::cli::compose {

// Warns of each field of the service's layers that opctl leaves out (naming why), and refuses a field
// compose does not know; x- extension fields are passed over, as compose does.
void CheckServiceFields(const std::string& name, const std::vector<Located>& layers, Reporter& report);

// The compose value an opctl Service field ("spec.template.resources.memoryLimit") was made from,
// in the latest layer that has one: where a refusal of that field points.
std::optional<Located> ComposeValueOf(const std::vector<Located>& layers, const std::string& field);

}  // namespace opctl::cli::compose
