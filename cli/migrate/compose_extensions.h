// The `x-opctl` extension fields `opctl export --to compose|swarm` writes for what compose has no
// field for, read back by `opctl convert`: a Service written as one compose service per replica
// (NAME-0, NAME-1, ...) folds back into one, with its addresses, volume templates, pre-stop hook,
// placement and the rest. Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "cli/migrate/compose_source.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::cli::compose {

// The extension of a service, network or volume (the last layer's), if any.
std::optional<Located> ExtensionOf(const std::vector<Located>& layers);

// Sets on `service` what its x-opctl holds that belongs to every replica (preStop, nodeSelector,
// placement, onNodeLoss, annotations, and which labels are the containers' own).
void ApplyServiceExtension(const Located& extension, v1::Service& service, Reporter& report);

// One compose service standing for replica `ordinal` of the opctl Service `service`.
struct ReplicaPart {
  std::string service;
  int ordinal = 0;
  Located extension;
  v1::Service converted;
};
std::optional<ReplicaPart> ReplicaPartOf(const Located& extension, const v1::Service& converted, Reporter& report);
// The opctl Service the parts stand for: the lowest ordinal's template, the replica count, every
// network's addresses and the volume templates from its extension.
v1::Service FoldReplicas(std::vector<ReplicaPart> parts, Reporter& report);

// A volume export declared for a replica of a Service (its volume template's): not a Volume of its own.
bool IsTemplateVolume(const Located& volume);
// A volume's backup schedule, from its extension.
void ApplyVolumeExtension(const Located& volume, v1::Volume& out, Reporter& report);

}  // namespace opctl::cli::compose
