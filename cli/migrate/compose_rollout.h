// How a compose service's deploy.update_config maps to a Service's spec.rollout: parallelism is the
// batch a rollout replaces at once (maxUnavailable); Swarm's pacing has no opctl field and is said so.
// Pure functions; thread-safe.
#pragma once

#include <string>

#include "cli/migrate/compose_source.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::cli::compose {

// `field` names the compose value in warnings: "service/web deploy.update_config".
void ReadUpdateConfig(const Located& update, const std::string& field, v1::RolloutStrategy& rollout, Reporter& report);

}  // namespace opctl::cli::compose
