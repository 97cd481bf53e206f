// What containers may do on the hosts beyond the safe defaults, as the controller's admin decides:
// privileged mode, added capabilities, the host's network and process namespaces, and bind mounts of
// host paths under given roots. Without a policy file (opctl-controller --policy) nothing beyond the
// defaults is allowed. Checked on every apply, after the validation every client shares; a refusal is
// a field error naming the field and the policy. Immutable once loaded; thread-safe.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/host_path.h"
#include "common/validation.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::controller {

struct ContainerPolicy {
  bool allow_privileged = false;
  std::set<std::string> allowed_capabilities;  // without CAP_; "ALL" allows any
  bool allow_host_network = false;
  bool allow_host_pid = false;
  std::vector<std::string> host_path_roots;  // normal absolute paths; never a path never mounted
  // Trees of this controller's own (its data directory, its certificates) that no container may mount
  // either, beyond the ones common/host_path.h protects everywhere.
  std::vector<ProtectedTree> protected_trees;
  // How messages name the policy: "the default policy (...)" or "policy file /etc/opctl/policy.yaml".
  std::string source = "the default policy (opctl-controller runs without --policy)";

  // Reads a YAML policy file:
  //   allowPrivileged: false
  //   allowedCapabilities: [NET_ADMIN]
  //   allowHostNetwork: false
  //   allowHostPID: false
  //   hostPathRoots: [/srv/opctl]
  // INVALID_ARGUMENT naming the file, line and key for anything else.
  static absl::StatusOr<ContainerPolicy> Load(const std::string& path);

  // INVALID_ARGUMENT when a host path root is or holds one of `protected_trees` (set them first).
  absl::Status CheckRoots() const;

  // The refusals for each Service in `objects` (document = index in `objects`).
  std::vector<FieldError> Check(const std::vector<v1::Object>& objects) const;
};

}  // namespace opctl::controller
