#include "agent/host_safety.h"

#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "common/host_path.h"

namespace opctl::agent {

bool IsRootUser(const std::string& user) {
  std::string name = user.substr(0, user.find(':'));
  if (name.empty() || name == "root") return true;
  return name.find_first_not_of('0') == std::string::npos;  // "0", "00"
}

absl::Status CheckRunsAsNonRoot(const v1::ContainerTemplate& spec, const DockerImage& image) {
  if (!spec.user().empty() || !IsRootUser(image.user)) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat(
      "image ", spec.image(), " runs as root (its USER is ", image.user.empty() ? "unset" : "\"" + image.user + "\"",
      ") and opctl runs containers as non-root unless the manifest says otherwise: set spec.template.user to a "
      "uid (e.g. \"65534\"), or to \"0\" to run as root on purpose"));
}

absl::Status CheckHostPaths(const v1::ContainerTemplate& spec) {
  for (const v1::VolumeMount& mount : spec.volume_mounts()) {
    if (mount.host_path().empty()) continue;
    std::error_code error;
    // weakly_canonical: follows the symlinks of the part that exists; a path yet to be made stays as given.
    std::string resolved = std::filesystem::weakly_canonical(mount.host_path(), error).string();
    if (error) resolved = mount.host_path();
    if (std::optional<std::string> refused = NeverMountedReason(resolved)) {
      return absl::FailedPreconditionError(
          absl::StrCat("hostPath \"", mount.host_path(), "\" is refused on this node, symlinks followed: ", *refused));
    }
  }
  return absl::OkStatus();
}

}  // namespace opctl::agent
