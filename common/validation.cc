#include "common/validation.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "common/host_path.h"
#include "common/ipv4.h"
#include "common/message_bounds.h"
#include "common/object.h"
#include "common/quantity.h"
#include "common/quote.h"
#include "re2/re2.h"

namespace opctl {
namespace {

// RE2 matches in time linear in the input and without recursion (std::regex recursed once per
// character and overflowed the stack on long strings); lengths are bounded before any match anyway.
const RE2& Rule(const char* pattern) { return *new RE2(pattern); }
const RE2& kDns1123Label = Rule("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
// Docker's own rule for volume names; the seed's volumes (redis_master_data) need '_'.
const RE2& kVolumeName = Rule("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
const RE2& kLabelName = Rule("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
const RE2& kLabelPrefix = Rule("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
const RE2& kEnvName = Rule("[A-Za-z_][A-Za-z0-9_]*");
const RE2& kUser = Rule("[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?");
const RE2& kImage = Rule("[a-z0-9][a-z0-9._/:@-]*");
const RE2& kCapability = Rule("(CAP_)?[A-Z][A-Z0-9_]*");
const RE2& kNodeName = Rule("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
constexpr size_t kMaxNameLength = 63;
constexpr size_t kMaxLabelPrefixLength = 253;
constexpr size_t kMaxImageLength = 255;
constexpr size_t kMaxEnvNameLength = 1024;
constexpr size_t kMaxUserLength = 256;
constexpr size_t kMaxCapabilityLength = 64;
constexpr size_t kMaxPathLength = 4096;     // PATH_MAX
constexpr size_t kMaxNodeNameLength = 253;  // a DNS name, as a host name may be
// One object, stored and sent whole on every watch: Kubernetes' limit is 1.5 MiB; data belongs in volumes.
constexpr size_t kMaxObjectBytes = 1 << 20;

bool Matches(const std::string& value, size_t max_length, const RE2& rule) {
  return value.size() <= max_length && RE2::FullMatch(value, rule);
}

// Collects errors for one object; `At` names the field.
class Checker {
 public:
  Checker(int document, std::string object, std::vector<FieldError>& errors)
      : document_(document), object_(std::move(object)), errors_(errors) {}
  Checker(int document, const std::string& kind, const std::string& name, std::vector<FieldError>& errors)
      : Checker(document, DisplayName(kind, name), errors) {}

  void Fail(const std::string& field, const std::string& message) {
    errors_.push_back({document_, object_, field, message});
  }

  void Name(const std::string& field, const std::string& value, bool volume_rule) {
    if (value.empty()) return Fail(field, "is required");
    if (!Matches(value, kMaxNameLength, volume_rule ? kVolumeName : kDns1123Label)) {
      Fail(field, absl::StrCat(Quote(value), " is not a valid name: ",
                               volume_rule ? "letters, digits, '_', '.' and '-', starting with a letter or digit"
                                           : "lower-case letters, digits and '-', starting and ending with a "
                                             "letter or digit (DNS-1123)",
                               ", at most 63 characters"));
    }
  }

  void Labels(const std::string& field, const google::protobuf::Map<std::string, std::string>& labels) {
    for (const auto& [key, value] : labels) {
      std::string path = absl::StrCat(field, ".", Clip(key));
      std::string name = key;
      size_t slash = key.find('/');
      if (slash != std::string::npos) {
        std::string prefix = key.substr(0, slash);
        name = key.substr(slash + 1);
        if (!Matches(prefix, kMaxLabelPrefixLength, kLabelPrefix)) {
          Fail(path, absl::StrCat("label key prefix ", Quote(prefix), " must be a DNS subdomain"));
        }
      }
      if (!Matches(name, kMaxNameLength, kLabelName)) {
        Fail(path, absl::StrCat(Quote(key),
                                " is not a valid label key: letters, digits, '-', '_' and '.', at most 63, "
                                "optionally behind a DNS prefix and '/'"));
      }
      if (!value.empty() && !Matches(value, kMaxNameLength, kLabelName)) {
        Fail(path,
             absl::StrCat(Quote(value), " is not a valid label value: letters, digits, '-', '_' and '.', at most 63"));
      }
    }
  }

  template <typename Parse>
  void Quantity(const std::string& field, const std::string& value, Parse parse) {
    if (value.empty()) return;
    auto parsed = parse(value);
    if (!parsed.ok()) Fail(field, std::string(parsed.status().message()));
  }

  void AbsolutePath(const std::string& field, const std::string& value) {
    if (value.empty()) return Fail(field, "is required");
    if (value[0] != '/') return Fail(field, absl::StrCat(Quote(value), " must be an absolute path"));
    if (value.size() > kMaxPathLength) Fail(field, absl::StrCat("is longer than ", kMaxPathLength, " bytes"));
  }

  void OneOf(const std::string& field, const std::string& value, const std::vector<std::string>& allowed) {
    if (value.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
    Fail(field, absl::StrCat(Quote(value), " is not one of: ", absl::StrJoin(allowed, ", ")));
  }

 private:
  int document_;
  std::string object_;
  std::vector<FieldError>& errors_;
};

void ValidateMeta(Checker& check, const std::string& kind, const v1::ObjectMeta& meta) {
  check.Name("metadata.name", meta.name(), kind == "Volume");
  if (!meta.stack().empty()) check.Name("metadata.stack", meta.stack(), false);
  check.Labels("metadata.labels", meta.labels());
  if (meta.resource_version() < 0) check.Fail("metadata.resourceVersion", "must not be negative");
}

void ValidateNetwork(Checker& check, const v1::NetworkSpec& spec) {
  check.OneOf("spec.driver", spec.driver(), {"bridge"});
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

void ValidateTemplate(Checker& check, const v1::ContainerTemplate& t, std::set<std::string>& mount_paths) {
  const std::string base = "spec.template.";
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
  if (resources.pids_limit() < -1) {
    check.Fail(base + "resources.pidsLimit", absl::StrCat(resources.pids_limit(),
                                                          " is not a limit (1 or more, "
                                                          "-1 for none, 0 for the default)"));
  }
  if (t.has_logs()) {
    check.Quantity(base + "logs.maxSize", t.logs().max_size(), ParseMemoryBytes);
    if (t.logs().max_files() < 0 || t.logs().max_files() > 100) {
      check.Fail(base + "logs.maxFiles", absl::StrCat(t.logs().max_files(), " is out of range (1 to 100)"));
    }
  }
  if (t.lifecycle().has_pre_stop() && t.lifecycle().pre_stop().exec().command().empty()) {
    check.Fail(base + "lifecycle.preStop.exec.command", "is required (e.g. [\"sh\", \"-c\", \"...\"])");
  }
}

// Every network a Service attaches to, with the field path of each.
std::vector<std::pair<std::string, const v1::ServiceNetwork*>> NetworksOf(const v1::ServiceSpec& spec) {
  std::vector<std::pair<std::string, const v1::ServiceNetwork*>> networks;
  if (spec.has_network()) networks.emplace_back("spec.network", &spec.network());
  for (int i = 0; i < spec.additional_networks_size(); ++i) {
    networks.emplace_back(absl::StrCat("spec.additionalNetworks[", i, "]"), &spec.additional_networks(i));
  }
  return networks;
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

// Finds an object in the apply first, then in the store. Indexed by store key, so each lookup costs
// a logarithm, not a scan of the apply.
class Resolver {
 public:
  Resolver(const std::vector<v1::Object>& objects, const ObjectLookup* stored) : objects_(objects), stored_(stored) {
    for (const v1::Object& object : objects) {
      if (!KindOf(object).empty()) applied_.emplace(StoreKey(object), &object);
    }
  }

  // nullopt when absent; `known` false when the answer cannot be known here (no store at hand).
  std::optional<v1::Object> Find(const std::string& kind, const std::string& name, bool& known) const {
    known = true;
    if (auto it = applied_.find(StoreKey(kind, name)); it != applied_.end()) return *it->second;
    if (stored_ == nullptr) {
      known = false;
      return std::nullopt;
    }
    return stored_->Find(kind, name);
  }

  // Objects of `kind` in the apply (in document order), plus stored ones the apply does not replace.
  std::vector<v1::Object> OfKind(const std::string& kind) const {
    std::vector<v1::Object> found;
    for (const v1::Object& object : objects_) {
      if (KindOf(object) == kind) found.push_back(object);
    }
    if (stored_ != nullptr) {
      for (v1::Object& object : stored_->ListKind(kind)) {
        if (!applied_.count(StoreKey(object))) found.push_back(std::move(object));
      }
    }
    return found;
  }

 private:
  const std::vector<v1::Object>& objects_;
  std::map<std::string, const v1::Object*> applied_;  // by store key; the first of duplicates
  const ObjectLookup* stored_;
};

void ValidateNetworkReference(Checker& check, const std::string& service_name, const std::string& path,
                              const v1::ServiceNetwork& attached, const Resolver& resolver,
                              std::map<std::string, std::map<uint32_t, std::string>>& addresses_by_network) {
  if (attached.name().empty()) return;
  bool known = false;
  std::optional<v1::Object> network = resolver.Find("Network", attached.name(), known);
  if (!network) {
    if (known) {
      check.Fail(path + ".name", absl::StrCat("network ", Quote(attached.name()),
                                              " does not exist; declare it in the same apply or apply it first"));
    }
    return;
  }
  const v1::NetworkSpec& network_spec = network->network().spec();
  if (attached.addresses().empty()) return;
  absl::StatusOr<Ipv4Subnet> subnet = ParseIpv4Subnet(network_spec.subnet());
  if (!subnet.ok() && !network_spec.subnet().empty()) return;  // the network's own error says why
  if (!subnet.ok()) {
    check.Fail(path + ".addresses", absl::StrCat("static addresses need a subnet on network ", Quote(attached.name())));
    return;
  }
  uint32_t gateway = subnet->first_host();
  if (absl::StatusOr<uint32_t> given = ParseIpv4(network_spec.gateway()); given.ok()) gateway = *given;
  auto& taken = addresses_by_network[attached.name()];
  for (int i = 0; i < attached.addresses_size(); ++i) {
    absl::StatusOr<uint32_t> address = ParseIpv4(attached.addresses(i));
    if (!address.ok()) continue;
    std::string address_path = absl::StrCat(path, ".addresses[", i, "]");
    const std::string& text = attached.addresses(i);
    if (!subnet->Contains(*address)) {
      check.Fail(address_path, absl::StrCat("\"", text, "\" is outside network ", Quote(attached.name()), " (",
                                            network_spec.subnet(), ")"));
    } else if (*address == subnet->network || *address == subnet->broadcast()) {
      check.Fail(address_path,
                 absl::StrCat("\"", text, "\" is the network or broadcast address of ", network_spec.subnet()));
    } else if (*address == gateway) {
      check.Fail(address_path, absl::StrCat("\"", text, "\" is the gateway of network ", Quote(attached.name())));
    } else if (auto [it, inserted] = taken.emplace(*address, service_name); !inserted && it->second != service_name) {
      check.Fail(address_path, absl::StrCat("\"", text, "\" is already used by service/", it->second, " on network ",
                                            Quote(attached.name())));
    }
  }
}

void ValidateReferences(Checker& check, const v1::Service& service, const Resolver& resolver,
                        std::map<std::string, std::map<uint32_t, std::string>>& addresses_by_network) {
  const v1::ServiceSpec& spec = service.spec();
  bool known = false;
  for (int i = 0; i < spec.template_().volume_mounts_size(); ++i) {
    const std::string& name = spec.template_().volume_mounts(i).name();
    if (name.empty()) continue;  // a host path
    std::optional<v1::Object> volume = resolver.Find("Volume", name, known);
    if (!volume && known) {
      check.Fail(
          absl::StrCat("spec.template.volumeMounts[", i, "].name"),
          absl::StrCat("volume ", Quote(name), " does not exist; declare it in the same apply or apply it first"));
    } else if (volume && !volume->volume().metadata().deletion_timestamp().empty()) {
      check.Fail(
          absl::StrCat("spec.template.volumeMounts[", i, "].name"),
          absl::StrCat("volume ", Quote(name), " is being deleted with its data; apply it again once it is gone"));
    }
  }
  for (const auto& [path, network] : NetworksOf(spec)) {
    ValidateNetworkReference(check, service.metadata().name(), path, *network, resolver, addresses_by_network);
  }
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

namespace {

// ValidateObject; `bounded` tells whether the object kept within the size bounds (only then do the
// rules across objects read it).
std::vector<FieldError> ValidateOne(const v1::Object& object, int document, bool& bounded) {
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
  if (kind == "Network") ValidateNetwork(check, object.network().spec());
  if (kind == "Volume") ValidateVolume(check, object.volume().spec());
  if (kind == "Service") ValidateService(check, object.service(), document, errors);
  return errors;
}

}  // namespace

std::vector<FieldError> ValidateObject(const v1::Object& object, int document) {
  bool bounded = false;
  return ValidateOne(object, document, bounded);
}

std::vector<FieldError> ValidateNodeReport(const v1::Node& node) {
  std::vector<FieldError> errors;
  Checker check(0, "Node", node.metadata().name(), errors);
  std::vector<BoundViolation> violations = CheckBounds(node, "");
  for (BoundViolation& violation : violations) check.Fail(violation.field, violation.message);
  if (!violations.empty()) return errors;
  if (!Matches(node.metadata().name(), kMaxNodeNameLength, kNodeName)) {
    check.Fail("metadata.name",
               absl::StrCat(Quote(node.metadata().name()),
                            " is not a node name: letters, digits, '-', '_' and '.', at most ", kMaxNodeNameLength));
  }
  check.Labels("metadata.labels", node.metadata().labels());
  const v1::NodeStatus& status = node.status();
  if (status.capacity().memory_bytes() < 0) check.Fail("status.capacity.memoryBytes", "must not be negative");
  if (status.capacity().milli_cpus() < 0) check.Fail("status.capacity.milliCpus", "must not be negative");
  for (const auto& [field, value] : {std::pair{"status.dockerVersion", &status.docker_version()},
                                     std::pair{"status.apiVersion", &status.api_version()},
                                     std::pair{"status.agentAddress", &status.agent_address()}}) {
    if (value->size() > kMaxNodeNameLength) check.Fail(field, absl::StrCat(Quote(*value), " is too long"));
  }
  for (int i = 0; i < status.volumes_size(); ++i) {
    if (!Matches(status.volumes(i), kMaxNodeNameLength, kVolumeName)) {
      check.Fail(absl::StrCat("status.volumes[", i, "]"),
                 absl::StrCat(Quote(status.volumes(i)), " is not a volume name"));
    }
  }
  return errors;
}

std::vector<FieldError> ValidateStatus(const v1::Object& object) {
  std::vector<FieldError> errors;
  std::string kind = KindOf(object);
  if (kind.empty()) {
    errors.push_back({0, "", "kind", absl::StrCat("is required; one of ", KnownKindNames())});
    return errors;
  }
  Checker check(0, kind, MetaOf(object).name(), errors);
  if (size_t bytes = object.ByteSizeLong(); bytes > kMaxObjectBytes) {
    check.Fail("", absl::StrCat("is ", bytes >> 10, " KiB; an object may be at most ", kMaxObjectBytes >> 20, " MiB"));
    return errors;
  }
  // A status is the writer's report, not the user's: bounded tighter than a spec.
  MessageBounds bounds;
  bounds.max_string_bytes = kMaxStatusStringBytes;
  bounds.max_entries = kMaxStatusEntries;
  for (BoundViolation& violation : CheckBounds(StatusOf(object), "status", bounds)) {
    check.Fail(violation.field, violation.message);
  }
  return errors;
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

namespace {

// Docker refuses a network whose subnet overlaps another's on the same host; say so before applying.
// Checked on the networks being applied, against each other and the stored ones. Subnets are nested
// or apart, so one sweep in address order finds, for every subnet inside another, the one around it:
// O(n log n) in the number of networks.
void ValidateSubnetsApart(const std::vector<v1::Object>& networks, const std::map<std::string, int>& first_document,
                          std::vector<FieldError>& errors) {
  struct Range {
    const v1::Object* network;
    uint64_t first, last;
    int document;  // -1: stored
  };
  std::vector<Range> ranges;
  for (const v1::Object& network : networks) {
    absl::StatusOr<Ipv4Subnet> subnet = ParseIpv4Subnet(network.network().spec().subnet());
    if (!subnet.ok()) continue;
    auto document = first_document.find(StoreKey(network));
    ranges.push_back(
        {&network, subnet->network, subnet->broadcast(), document == first_document.end() ? -1 : document->second});
  }
  // By start, the wider first: the range around another comes before it.
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.first != b.first ? a.first < b.first : a.last > b.last; });
  std::map<const v1::Object*, const v1::Object*> clash_of;  // applied network -> one it overlaps
  const Range* widest = nullptr;                            // of those seen, the one reaching furthest
  for (const Range& range : ranges) {
    if (widest != nullptr && widest->last >= range.first) {
      // A pair within the apply is reported once, on the later document; against a stored one, on the applied.
      const Range* mine = &range;
      const Range* theirs = widest;
      if (mine->document < 0 || (theirs->document >= 0 && theirs->document > mine->document)) std::swap(mine, theirs);
      if (mine->document >= 0) clash_of.emplace(mine->network, theirs->network);
    }
    if (widest == nullptr || range.last > widest->last) widest = &range;
  }
  std::vector<std::pair<int, FieldError>> found;
  for (const auto& [network, clash] : clash_of) {
    int document = first_document.at(StoreKey(*network));
    found.push_back({document,
                     {document, DisplayName(*network), "spec.subnet",
                      absl::StrCat(network->network().spec().subnet(), " overlaps network \"",
                                   clash->network().metadata().name(), "\" (", clash->network().spec().subnet(),
                                   "); Docker refuses overlapping subnets on one host")}});
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [document, error] : found) errors.push_back(std::move(error));
}

}  // namespace

std::vector<FieldError> ValidateApply(const std::vector<v1::Object>& objects, const ObjectLookup* stored) {
  std::vector<FieldError> errors;
  if (objects.size() > kMaxApplyObjects) {
    errors.push_back(
        {0, "", "",
         absl::StrCat("an apply may hold at most ", kMaxApplyObjects, " objects, not ", objects.size(), "; split it")});
    return errors;
  }
  std::map<std::string, int> first_document;
  // The rules across objects read only objects within the size bounds.
  std::vector<v1::Object> bounded_objects;
  for (int i = 0; i < static_cast<int>(objects.size()); ++i) {
    const v1::Object& object = objects[i];
    bool bounded = false;
    for (FieldError& error : ValidateOne(object, i, bounded)) errors.push_back(std::move(error));
    if (!bounded) continue;
    std::string kind = KindOf(object);
    if (kind == "Container" || kind == "Node") {
      errors.push_back({i, DisplayName(object), "kind",
                        kind == "Container" ? "Containers are written by the controller; apply a Service instead"
                                            : "Nodes are registered by their agent; they cannot be applied"});
    }
    auto [it, inserted] = first_document.emplace(StoreKey(object), i);
    if (!inserted) {
      errors.push_back(
          {i, DisplayName(object), "metadata.name",
           absl::StrCat("duplicate: ", DisplayName(object), " is already declared in document ", it->second + 1)});
    }
    bounded_objects.push_back(object);
  }
  Resolver resolver(bounded_objects, stored);
  // Address clashes are checked across the apply and the stored services it does not replace.
  std::map<std::string, std::map<uint32_t, std::string>> addresses_by_network;
  std::vector<v1::Object> services = resolver.OfKind("Service");
  // Stored services claim their addresses first, so the error lands on the object being applied.
  std::stable_partition(services.begin(), services.end(),
                        [&](const v1::Object& service) { return !first_document.count(StoreKey(service)); });
  for (const v1::Object& service : services) {
    auto document = first_document.find(StoreKey(service));
    std::vector<FieldError> ignored;
    Checker check(document == first_document.end() ? -1 : document->second, DisplayName(service),
                  document == first_document.end() ? ignored : errors);
    ValidateReferences(check, service.service(), resolver, addresses_by_network);
  }
  ValidateSubnetsApart(resolver.OfKind("Network"), first_document, errors);
  return errors;
}

}  // namespace opctl
