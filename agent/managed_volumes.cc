#include "agent/managed_volumes.h"

#include "absl/strings/str_cat.h"
#include "agent/container_spec.h"

namespace opctl::agent {

absl::Status CheckManagedVolume(DockerClient& docker, const std::string& node, const std::string& name, bool adopt) {
  std::map<std::string, std::string> labels = ManagedLabels(node);
  labels[kNameLabel] = name;
  absl::StatusOr<std::vector<DockerVolume>> ours = docker.ListVolumes(labels);
  if (!ours.ok()) return ours.status();
  for (const DockerVolume& volume : *ours) {
    if (volume.name == name) return absl::OkStatus();
  }
  absl::StatusOr<std::vector<DockerVolume>> all = docker.ListVolumes({});
  if (!all.ok()) return all.status();
  for (const DockerVolume& volume : *all) {
    if (volume.name != name) continue;
    if (adopt) return absl::OkStatus();
    return absl::FailedPreconditionError(
        absl::StrCat("a Docker volume named ", name, " exists on node ", node,
                     " and was not made by opctl; opctl leaves it alone: set spec.adoptExisting: true on volume/", name,
                     " to use it as it is, or remove or rename it"));
  }
  return absl::NotFoundError(absl::StrCat("volume ", name, " does not exist on node ", node));
}

}  // namespace opctl::agent
