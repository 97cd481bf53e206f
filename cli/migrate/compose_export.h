// One stack as a compose file: version 2.4 for Debian's docker-compose (fixed addresses kept, one
// service per replica where replicas differ), or version 3.8 for `docker stack deploy` (overlay
// networks, deploy:, names for addresses). What compose has no field for travels in `x-opctl`
// extension fields, so `opctl convert` gives the same objects back.
#pragma once

#include <string>
#include <vector>

#include "cli/migrate/export_support.h"

namespace opctl::cli::exporting {

// `all`: every stack exported, whose replicas' names stand for their addresses in a stack file.
std::string ComposeFileOf(const Stack& stack, const std::vector<Stack>& all, bool swarm, Warnings& warn);

}  // namespace opctl::cli::exporting
