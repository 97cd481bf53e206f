#include "agent/host_safety.h"

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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

absl::StatusOr<std::vector<std::string>> ResolveHostPaths(const v1::ContainerTemplate& spec,
                                                          const std::vector<std::string>& roots,
                                                          const std::vector<ProtectedTree>& extra) {
  std::vector<std::string> resolved_roots;
  for (const std::string& root : roots) {
    std::error_code error;
    std::filesystem::path resolved = std::filesystem::canonical(root, error);
    if (!error) resolved_roots.push_back(resolved.string());
  }
  std::vector<std::string> resolved_paths;
  for (const v1::VolumeMount& mount : spec.volume_mounts()) {
    resolved_paths.emplace_back();
    if (mount.host_path().empty()) continue;
    std::error_code error;
    std::filesystem::path resolved = std::filesystem::canonical(mount.host_path(), error);
    if (error) {
      return absl::FailedPreconditionError(absl::StrCat("hostPath \"", mount.host_path(),
                                                        "\" cannot be resolved on this node: ", error.message(),
                                                        " (host paths must exist before they are mounted)"));
    }
    std::string real = resolved.string();
    if (std::optional<std::string> refused = NeverMountedReason(real, extra)) {
      return absl::FailedPreconditionError(
          absl::StrCat("hostPath \"", mount.host_path(), "\" is refused on this node, symlinks followed: ", *refused));
    }
    bool inside = std::any_of(resolved_roots.begin(), resolved_roots.end(),
                              [&](const std::string& root) { return IsUnder(real, root); });
    if (!inside) {
      return absl::FailedPreconditionError(absl::StrCat("hostPath \"", mount.host_path(), "\" leads to \"", real,
                                                        "\" on this node, symlinks followed, which is "
                                                        "outside the controller policy's hostPathRoots (",
                                                        roots.empty() ? "none" : absl::StrJoin(roots, ", "), ")"));
    }
    resolved_paths.back() = real;
  }
  return resolved_paths;
}

}  // namespace opctl::agent
