#include "controller/container_policy.h"

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api_names.h"
#include "common/host_path.h"
#include "common/object.h"
#include "common/quote.h"

namespace opctl::controller {
namespace {

std::string CapabilityName(const std::string& given) {
  std::string name = absl::AsciiStrToUpper(given);
  return absl::StartsWith(name, "CAP_") ? name.substr(4) : name;
}

absl::Status PolicyError(const std::string& path, const YAML::Node& node, const std::string& message) {
  return absl::InvalidArgumentError(absl::StrCat(path, ":", node.Mark().line + 1, ": ", message));
}

}  // namespace

absl::StatusOr<ContainerPolicy> ContainerPolicy::Load(const std::string& path) {
  ContainerPolicy policy;
  policy.source = absl::StrCat("policy file ", path);
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::BadFile&) {
    return absl::InvalidArgumentError(absl::StrCat("cannot read policy file ", path));
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", error.mark.line + 1, ": invalid YAML: ", error.msg));
  }
  if (root.IsNull()) return policy;  // an empty file: the defaults
  if (!root.IsMap()) return PolicyError(path, root, "a policy is a mapping (allowPrivileged: false, ...)");
  try {
    for (const auto& entry : root) {
      std::string key = entry.first.as<std::string>();
      const YAML::Node& value = entry.second;
      if (key == "allowPrivileged") {
        policy.allow_privileged = value.as<bool>();
      } else if (key == "allowHostNetwork") {
        policy.allow_host_network = value.as<bool>();
      } else if (key == "allowHostPID") {
        policy.allow_host_pid = value.as<bool>();
      } else if (key == "allowedCapabilities") {
        if (!value.IsSequence()) return PolicyError(path, value, "allowedCapabilities: a list, e.g. [NET_ADMIN]");
        for (const auto& item : value) policy.allowed_capabilities.insert(CapabilityName(item.as<std::string>()));
      } else if (key == "hostPathRoots") {
        if (!value.IsSequence()) return PolicyError(path, value, "hostPathRoots: a list, e.g. [/srv/opctl]");
        for (const auto& item : value) {
          std::string root_path = item.as<std::string>();
          if (root_path.empty() || root_path[0] != '/') {
            return PolicyError(path, item, absl::StrCat("hostPathRoots: \"", root_path, "\" is not an absolute path"));
          }
          if (std::optional<std::string> refused = NeverMountedReason(root_path)) {
            return PolicyError(path, item, absl::StrCat("hostPathRoots: ", *refused));
          }
          policy.host_path_roots.push_back(NormalHostPath(root_path));
        }
      } else {
        return PolicyError(path, entry.first,
                           absl::StrCat("unknown key \"", key,
                                        "\" (known: allowPrivileged, allowedCapabilities, allowHostNetwork, "
                                        "allowHostPID, hostPathRoots)"));
      }
    }
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ":", error.mark.line + 1, ": ", error.msg, " (expected true/false or a list of strings)"));
  }
  return policy;
}

absl::Status ContainerPolicy::CheckRoots() const {
  for (const std::string& root : host_path_roots) {
    if (std::optional<std::string> refused = NeverMountedReason(root, protected_trees)) {
      return absl::InvalidArgumentError(absl::StrCat(source, ": hostPathRoots: ", *refused));
    }
  }
  return absl::OkStatus();
}

std::vector<FieldError> ContainerPolicy::Check(const std::vector<v1::Object>& objects) const {
  std::vector<FieldError> errors;
  for (int document = 0; document < static_cast<int>(objects.size()); ++document) {
    const v1::Object& object = objects[document];
    if (KindOf(object) != kKindService) continue;
    const v1::ContainerTemplate& t = object.service().spec().template_();
    auto refuse = [&](const std::string& field, const std::string& message) {
      errors.push_back({document, DisplayName(object), absl::StrCat("spec.template.", field),
                        absl::StrCat(message, " (", source, ")")});
    };
    if (t.security_context().privileged() && !allow_privileged) {
      refuse("securityContext.privileged",
             "privileged containers are refused by the controller's policy: "
             "allowPrivileged is false");
    }
    const auto& added = t.security_context().capabilities().add();
    for (int i = 0; i < added.size(); ++i) {
      std::string name = CapabilityName(added[i]);
      if (allowed_capabilities.count(name) || allowed_capabilities.count("ALL")) continue;
      refuse(absl::StrCat("securityContext.capabilities.add[", i, "]"),
             absl::StrCat("capability ", Quote(name), " is refused by the controller's policy: allowedCapabilities is ",
                          allowed_capabilities.empty() ? "empty" : absl::StrJoin(allowed_capabilities, ", ")));
    }
    if (t.host_network() && !allow_host_network) {
      refuse("hostNetwork", "the host's network is refused by the controller's policy: allowHostNetwork is false");
    }
    if (t.host_pid() && !allow_host_pid) {
      refuse("hostPID", "the host's processes are refused by the controller's policy: allowHostPID is false");
    }
    for (int i = 0; i < t.volume_mounts_size(); ++i) {
      const std::string& host_path = t.volume_mounts(i).host_path();
      if (host_path.empty() || host_path[0] != '/') continue;  // validation names a relative path
      std::string normal = NormalHostPath(host_path);
      if (std::optional<std::string> refused = NeverMountedReason(normal, protected_trees)) {
        refuse(absl::StrCat("volumeMounts[", i, "].hostPath"), *refused);
        continue;
      }
      bool inside = false;
      for (const std::string& root : host_path_roots) inside |= IsUnder(normal, root);
      if (inside) continue;
      refuse(absl::StrCat("volumeMounts[", i, "].hostPath"),
             host_path_roots.empty()
                 ? absl::StrCat("host path ", Quote(normal),
                                " is refused by the controller's policy: hostPathRoots is empty, so no host path "
                                "may be mounted")
                 : absl::StrCat("host path ", Quote(normal), " is outside the controller policy's hostPathRoots (",
                                absl::StrJoin(host_path_roots, ", "), ")"));
    }
  }
  return errors;
}

}  // namespace opctl::controller
