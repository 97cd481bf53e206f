#include "common/validation.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/api_names.h"
#include "common/host_path.h"
#include "common/ipv4.h"
#include "common/log_driver.h"
#include "common/message_bounds.h"
#include "common/object.h"
#include "common/quantity.h"
#include "common/quote.h"
#include "common/validation_checker.h"

namespace opctl {
namespace {

using validation_internal::Checker;
using validation_internal::kCapability;
using validation_internal::kEnvName;
using validation_internal::kImage;
using validation_internal::kMaxCapabilityLength;
using validation_internal::kMaxEnvNameLength;
using validation_internal::kMaxImageLength;
using validation_internal::kMaxObjectBytes;
using validation_internal::kMaxPathLength;
using validation_internal::kMaxUserLength;
using validation_internal::kUser;
using validation_internal::Matches;
using validation_internal::NetworksOf;
using validation_internal::ValidateLogOptions;

void ValidateMeta(Checker& check, const std::string& kind, const v1::ObjectMeta& meta) {
  check.Name("metadata.name", meta.name(), kind == kKindVolume);
  if (!meta.stack().empty()) check.Name("metadata.stack", meta.stack(), false);
  check.Labels("metadata.labels", meta.labels());
  if (meta.resource_version() < 0) check.Fail("metadata.resourceVersion", "must not be negative");
}

void ValidateNetwork(Checker& check, const v1::NetworkSpec& spec) {
  check.OneOf("spec.driver", spec.driver(), {"bridge"});
  // Below 1280 IPv6 would not run in it; above 9000 no Ethernet link carries it.
  if (spec.mtu() != 0 && (spec.mtu() < 1280 || spec.mtu() > 9000)) {
    check.Fail("spec.mtu", absl::StrCat(spec.mtu(), " is out of range (1280 to 9000; 0 for 1450)"));
  }
  if (spec.subnet().empty()) {
    if (!spec.gateway().empty()) check.Fail("spec.gateway", "needs spec.subnet");
    return;
  }
  absl::StatusOr<Ipv4Subnet> subnet = ParseIpv4Subnet(spec.subnet());
  if (!subnet.ok()) return check.Fail("spec.subnet", std::string(subnet.status().message()));
  if (spec.gateway().empty()) return;
  absl::StatusOr<uint32_t> gateway = ParseIpv4(spec.gateway());
  if (!gateway.ok()) return check.Fail("spec.gateway", std::string(gateway.status().message()));
  if (!subnet->Contains(*gateway) || *gateway == subnet->network || *gateway == subnet->broadcast()) {
    check.Fail("spec.gateway", absl::StrCat(Quote(spec.gateway()), " must be a host address inside ", spec.subnet()));
  }
}

void ValidateVolume(Checker& check, const v1::VolumeSpec& spec) {
  check.OneOf("spec.driver", spec.driver(), {"local"});
  if (spec.has_backup()) {
    check.Quantity("spec.backup.schedule", spec.backup().schedule(), ParseDuration);
    if (spec.backup().schedule().empty()) check.Fail("spec.backup.schedule", "is required (e.g. 1h)");
    if (spec.backup().keep() < 0) check.Fail("spec.backup.keep", "must not be negative");
  }
}

// The process: image, environment, user, working directory.
void ValidateProcess(Checker& check, const v1::ContainerTemplate& t, const std::string& base) {
  if (t.image().empty())
    check.Fail(base + "image", "is required (e.g. opctl/redis:7.0)");
  else if (!Matches(t.image(), kMaxImageLength, kImage)) {
    check.Fail(base + "image", absl::StrCat(Quote(t.image()), " is not a valid image reference"));
  }
  std::set<std::string> env_names;
  for (int i = 0; i < t.env_size(); ++i) {
    std::string path = absl::StrCat(base, "env[", i, "].name");
    if (!Matches(t.env(i).name(), kMaxEnvNameLength, kEnvName)) {
      check.Fail(path, absl::StrCat(Quote(t.env(i).name()), " is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)"));
    } else if (!env_names.insert(t.env(i).name()).second) {
      check.Fail(path, absl::StrCat(Quote(t.env(i).name()), " is set twice"));
    }
  }
  if (!t.user().empty() && !Matches(t.user(), kMaxUserLength, kUser)) {
    check.Fail(base + "user", absl::StrCat(Quote(t.user()), " is not a user (uid[:gid] or name[:group])"));
  }
  if (!t.working_dir().empty()) check.AbsolutePath(base + "workingDir", t.working_dir());
}

void ValidatePorts(Checker& check, const v1::ContainerTemplate& t, const std::string& base) {
  std::set<std::string> published;
  for (int i = 0; i < t.ports_size(); ++i) {
    const v1::PortMapping& port = t.ports(i);
    std::string path = absl::StrCat(base, "ports[", i, "]");
    if (port.container_port() < 1 || port.container_port() > 65535) {
      check.Fail(path + ".containerPort", absl::StrCat(port.container_port(), " is not a port (1 to 65535)"));
    }
    if (port.host_port() < 0 || port.host_port() > 65535) {
      check.Fail(path + ".hostPort", absl::StrCat(port.host_port(), " is not a port (1 to 65535, or 0 for the same)"));
    }
    if (!port.host_ip().empty() && !ParseIpv4(port.host_ip()).ok()) {
      check.Fail(path + ".hostIp", absl::StrCat(Quote(port.host_ip()), " is not an IPv4 address"));
    }
    check.OneOf(path + ".protocol", port.protocol(), {"tcp", "udp"});
    std::string key =
        absl::StrCat(Clip(port.host_ip()), ":", port.host_port() ? port.host_port() : port.container_port(), "/",
                     port.protocol().empty() ? "tcp" : port.protocol());
    if (!published.insert(key).second) check.Fail(path, absl::StrCat("publishes ", key, " twice"));
  }
}

// Volumes and host paths; `mount_paths` collects the mount paths, each once.
void ValidateMounts(Checker& check, const v1::ContainerTemplate& t, const std::string& base,
                    std::set<std::string>& mount_paths) {
  for (int i = 0; i < t.volume_mounts_size(); ++i) {
    const v1::VolumeMount& mount = t.volume_mounts(i);
    std::string path = absl::StrCat(base, "volumeMounts[", i, "]");
    if (mount.host_path().empty()) {
      check.Name(path + ".name", mount.name(), true);
    } else if (!mount.name().empty()) {
      check.Fail(path + ".hostPath", "give either name (a Volume) or hostPath (a directory of the node), not both");
    } else if (mount.host_path()[0] != '/') {
      check.Fail(path + ".hostPath", absl::StrCat(Quote(mount.host_path()), " must be an absolute path"));
    } else if (mount.host_path().size() > kMaxPathLength) {
      check.Fail(path + ".hostPath", absl::StrCat("is longer than ", kMaxPathLength, " bytes"));
    } else if (absl::string_view given = absl::StripSuffix(mount.host_path(), "/");
               given.size() > 1 && NormalHostPath(mount.host_path()) != given) {
      // "a/link/.." is "a" to the eye but where link leads to the kernel: only normal paths are taken.
      check.Fail(path + ".hostPath", absl::StrCat(Quote(mount.host_path()),
                                                  " must be written in normal form, "
                                                  "without '.', '..' or '//' (",
                                                  Quote(NormalHostPath(mount.host_path())), ")"));
    } else if (std::optional<std::string> refused = NeverMountedReason(mount.host_path())) {
      check.Fail(path + ".hostPath", *refused);
    }
    check.AbsolutePath(path + ".mountPath", t.volume_mounts(i).mount_path());
    if (!mount_paths.insert(t.volume_mounts(i).mount_path()).second) {
      check.Fail(path + ".mountPath", absl::StrCat(Quote(t.volume_mounts(i).mount_path()), " is mounted twice"));
    }
  }
}

void ValidateResources(Checker& check, const v1::ContainerTemplate& t, const std::string& base) {
  const v1::Resources& resources = t.resources();
  check.Quantity(base + "resources.memoryLimit", resources.memory_limit(), ParseMemoryBytes);
  check.Quantity(base + "resources.memoryReservation", resources.memory_reservation(), ParseMemoryBytes);
  check.Quantity(base + "resources.cpus", resources.cpus(), ParseMilliCpus);
  absl::StatusOr<int64_t> limit = ParseMemoryBytes(resources.memory_limit());
  absl::StatusOr<int64_t> reservation = ParseMemoryBytes(resources.memory_reservation());
  if (limit.ok() && *limit < kMinMemoryLimitBytes) {
    check.Fail(base + "resources.memoryLimit",
               absl::StrCat(Quote(resources.memory_limit()), " is below Docker's minimum of 6m"));
  }
  if (limit.ok() && reservation.ok() && *reservation > *limit) {
    check.Fail(
        base + "resources.memoryReservation",
        absl::StrCat(Quote(resources.memory_reservation()), " is above memoryLimit ", Quote(resources.memory_limit())));
  }
}

void ValidateHealthCheck(Checker& check, const v1::ContainerTemplate& t, const std::string& base) {
  if (t.has_healthcheck()) {
    const v1::HealthCheck& health = t.healthcheck();
    std::string path = base + "healthcheck.";
    if (health.test().empty()) {
      check.Fail(path + "test", "is required (e.g. [\"CMD\", \"redis-cli\", \"ping\"])");
    } else {
      check.OneOf(path + "test[0]", health.test(0), {"CMD", "CMD-SHELL", "NONE"});
      if (health.test(0) != "NONE" && health.test_size() < 2) check.Fail(path + "test", "names no command");
    }
    check.Quantity(path + "interval", health.interval(), ParseDuration);
    check.Quantity(path + "timeout", health.timeout(), ParseDuration);
    check.Quantity(path + "startPeriod", health.start_period(), ParseDuration);
    if (health.retries() < 0) check.Fail(path + "retries", "must not be negative");
  }
}

void ValidateSecurity(Checker& check, const v1::ContainerTemplate& t, const std::string& base) {
  const v1::Capabilities& capabilities = t.security_context().capabilities();
  for (const auto& [list, names] : {std::pair{"add", &capabilities.add()}, std::pair{"drop", &capabilities.drop()}}) {
    for (int i = 0; i < names->size(); ++i) {
      if (Matches(names->Get(i), kMaxCapabilityLength, kCapability)) continue;
      check.Fail(absl::StrCat(base, "securityContext.capabilities.", list, "[", i, "]"),
                 absl::StrCat(Quote(names->Get(i)), " is not a capability name (e.g. NET_ADMIN, or ALL)"));
    }
  }
  if (t.host_network() && !t.ports().empty()) {
    check.Fail(base + "ports",
               "a container on the host's network (hostNetwork) uses the host's ports directly; "
               "drop ports");
  }
}

// How Docker runs it: restart policy, labels, pids, logs, lifecycle hooks.
void ValidateRuntimeOptions(Checker& check, const v1::ContainerTemplate& t, const std::string& base) {
  check.OneOf(base + "restartPolicy", t.restart_policy(), {"no", "always", "on-failure", "unless-stopped"});
  check.Labels(base + "labels", t.labels());
  for (const auto& [key, value] : t.labels()) {
    // The agent's own labels say what it may remove, move or restore: never set from a manifest.
    if (IsReservedLabel(key)) {
      check.Fail(absl::StrCat(base, "labels.", Clip(key)),
                 absl::StrCat(Quote(key),
                              " is the agent's own label on the Docker container (what it may remove, "
                              "move or restore); it cannot be set from a manifest"));
    }
  }
  if (t.resources().pids_limit() < -1) {
    check.Fail(base + "resources.pidsLimit", absl::StrCat(t.resources().pids_limit(),
                                                          " is not a limit (1 or more, "
                                                          "-1 for none, 0 for the default)"));
  }
  if (t.has_logs()) ValidateLogOptions(check, t.logs(), base + "logs");
  if (t.lifecycle().has_pre_stop() && t.lifecycle().pre_stop().exec().command().empty()) {
    check.Fail(base + "lifecycle.preStop.exec.command", "is required (e.g. [\"sh\", \"-c\", \"...\"])");
  }
}

void ValidateTemplate(Checker& check, const v1::ContainerTemplate& t, std::set<std::string>& mount_paths) {
  const std::string base = "spec.template.";
  ValidateProcess(check, t, base);
  ValidatePorts(check, t, base);
  ValidateMounts(check, t, base, mount_paths);
  ValidateResources(check, t, base);
  ValidateHealthCheck(check, t, base);
  ValidateSecurity(check, t, base);
  ValidateRuntimeOptions(check, t, base);
}

}  // namespace

namespace validation_internal {

std::vector<std::pair<std::string, const v1::ServiceNetwork*>> NetworksOf(const v1::ServiceSpec& spec) {
  std::vector<std::pair<std::string, const v1::ServiceNetwork*>> networks;
  if (spec.has_network()) networks.emplace_back("spec.network", &spec.network());
  for (int i = 0; i < spec.additional_networks_size(); ++i) {
    networks.emplace_back(absl::StrCat("spec.additionalNetworks[", i, "]"), &spec.additional_networks(i));
  }
  return networks;
}

}  // namespace validation_internal

namespace {

void ValidatePlacement(Checker& check, const std::string& service, const v1::Placement& placement) {
  if (placement.max_replicas_per_node() < 0) {
    check.Fail("spec.placement.maxReplicasPerNode",
               absl::StrCat(placement.max_replicas_per_node(), " is not a limit (1 or more, 0 for none)"));
  }
  std::set<std::string> seen;
  for (int i = 0; i < placement.apart_from_size(); ++i) {
    std::string path = absl::StrCat("spec.placement.apartFrom[", i, "]");
    const std::string& other = placement.apart_from(i);
    check.Name(path, other, false);
    if (other == service) {
      check.Fail(path, "is this Service itself: spread its own replicas with maxReplicasPerNode: 1");
    } else if (!seen.insert(other).second) {
      check.Fail(path, absl::StrCat(Quote(other), " is listed twice"));
    }
  }
}

void ValidateRollout(Checker& check, const v1::RolloutStrategy& rollout) {
  if (rollout.max_unavailable() < 0) {
    check.Fail("spec.rollout.maxUnavailable", absl::StrCat(rollout.max_unavailable(), " is not a count (1 or more)"));
  }
  if (rollout.max_surge() != 0) {
    check.Fail("spec.rollout.maxSurge",
               "must be 0: a Service's replicas keep their names and addresses, so none can run beside them; "
               "roll faster with maxUnavailable");
  }
  if (rollout.progress_deadline_seconds() < 0) {
    check.Fail("spec.rollout.progressDeadlineSeconds",
               absl::StrCat(rollout.progress_deadline_seconds(), " is not a number of seconds (1 or more)"));
  }
  if (rollout.revision_history_limit() < 0 || rollout.revision_history_limit() > 100) {
    check.Fail("spec.rollout.revisionHistoryLimit",
               absl::StrCat(rollout.revision_history_limit(), " is not 1 to 100 (0: the default, 10)"));
  }
}

void ValidateService(Checker& check, const v1::Service& service, int document, std::vector<FieldError>& errors) {
  const v1::ServiceSpec& spec = service.spec();
  std::set<std::string> mount_paths;
  ValidateTemplate(check, spec.template_(), mount_paths);
  for (int i = 0; i < spec.volume_templates_size(); ++i) {
    std::string path = absl::StrCat("spec.volumeTemplates[", i, "]");
    check.Name(path + ".name", spec.volume_templates(i).name(), true);
    check.AbsolutePath(path + ".mountPath", spec.volume_templates(i).mount_path());
    if (!mount_paths.insert(spec.volume_templates(i).mount_path()).second) {
      check.Fail(path + ".mountPath", absl::StrCat(Quote(spec.volume_templates(i).mount_path()), " is mounted twice"));
    }
  }
  if (spec.template_().host_network() && (spec.has_network() || spec.additional_networks_size() > 0)) {
    check.Fail("spec.template.hostNetwork",
               "a container on the host's network joins no other network; drop "
               "spec.network and spec.additionalNetworks, or hostNetwork");
  }
  check.Labels("spec.nodeSelector", spec.node_selector());
  if (!spec.on_node_loss().empty() && spec.on_node_loss() != "Reschedule" && spec.on_node_loss() != "Stay") {
    check.Fail("spec.onNodeLoss", absl::StrCat(Quote(spec.on_node_loss()), " is neither Reschedule nor Stay"));
  }
  ValidatePlacement(check, service.metadata().name(), spec.placement());
  ValidateRollout(check, spec.rollout());
  std::set<std::string> network_names;
  for (const auto& [path, network] : NetworksOf(spec)) {
    if (!network->addresses().empty() && network->name().empty()) {
      check.Fail(path + ".name", "is required when addresses are given");
    }
    if (path != "spec.network" && network->name().empty()) check.Fail(path + ".name", "is required");
    if (!network->name().empty()) {
      check.Name(path + ".name", network->name(), false);
      if (!network_names.insert(network->name()).second) {
        check.Fail(path + ".name", absl::StrCat("network ", Quote(network->name()), " is attached twice"));
      }
    }
    std::set<std::string> seen;
    for (int i = 0; i < network->addresses_size(); ++i) {
      const std::string& address = network->addresses(i);
      std::string address_path = absl::StrCat(path, ".addresses[", i, "]");
      if (!ParseIpv4(address).ok()) {
        check.Fail(address_path, absl::StrCat(Quote(address), " is not an IPv4 address"));
      } else if (!seen.insert(address).second) {
        check.Fail(address_path, absl::StrCat(Quote(address), " is listed twice"));
      }
    }
  }
  for (FieldError& error : ValidateReplicas(service, document)) errors.push_back(std::move(error));
}

}  // namespace

bool IsReservedLabel(absl::string_view key) {
  static const auto* reserved = new std::set<std::string, std::less<>>{
      "opctl.io/managed-by", "opctl.io/node",      "opctl.io/kind",      "opctl.io/name",
      "opctl.io/uid",        "opctl.io/stack",     "opctl.io/spec-hash", "opctl.io/moves-on-node-loss",
      "opctl.io/helper",     "opctl.io/host-paths"};
  return reserved->count(key) > 0;
}

std::string FieldError::ToString() const {
  return field.empty() ? absl::StrCat(object, ": ", message) : absl::StrCat(object, " ", field, ": ", message);
}

// ValidateObject; `bounded` tells whether the object kept within the size bounds (only then do the
// rules across objects read it).
std::vector<FieldError> validation_internal::ValidateOne(const v1::Object& object, int document, bool& bounded) {
  std::vector<FieldError> errors;
  bounded = false;
  std::string kind = KindOf(object);
  if (kind.empty()) {
    errors.push_back({document, "", "kind", absl::StrCat("is required; one of ", KnownKindNames())});
    return errors;
  }
  const v1::ObjectMeta& meta = MetaOf(object);
  Checker check(document, kind, meta.name(), errors);
  if (size_t bytes = object.ByteSizeLong(); bytes > kMaxObjectBytes) {
    check.Fail("", absl::StrCat("is ", bytes >> 10, " KiB; an object may be at most ", kMaxObjectBytes >> 20,
                                " MiB (keep large data in volumes)"));
    return errors;
  }
  // Sizes and counts first: no rule below ever reads an unbounded value.
  std::vector<BoundViolation> violations = CheckBounds(Inner(object), "");
  for (BoundViolation& violation : violations) check.Fail(violation.field, violation.message);
  if (!violations.empty()) return errors;
  bounded = true;
  ValidateMeta(check, kind, meta);
  if (kind == kKindNetwork) ValidateNetwork(check, object.network().spec());
  if (kind == kKindVolume) ValidateVolume(check, object.volume().spec());
  if (kind == kKindService) ValidateService(check, object.service(), document, errors);
  return errors;
}

std::vector<FieldError> ValidateObject(const v1::Object& object, int document) {
  bool bounded = false;
  return validation_internal::ValidateOne(object, document, bounded);
}

std::vector<FieldError> ValidateReplicas(const v1::Service& service, int document) {
  std::vector<FieldError> errors;
  Checker check(document, "Service", service.metadata().name(), errors);
  const v1::ServiceSpec& spec = service.spec();
  if (spec.replicas() < 0 || spec.replicas() > kMaxReplicas) {
    check.Fail("spec.replicas", absl::StrCat(spec.replicas(), " is out of range (0 to ", kMaxReplicas, ")"));
  } else {
    for (const auto& [path, network] : NetworksOf(spec)) {
      if (network->addresses().empty() || network->addresses_size() >= spec.replicas()) continue;
      check.Fail("spec.replicas",
                 absl::StrCat(spec.replicas(), " replicas need ", spec.replicas(), " static addresses in ", path,
                              ".addresses, ", network->addresses_size(), " given"));
    }
  }
  return errors;
}

}  // namespace opctl
