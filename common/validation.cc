#include "common/validation.h"

#include <map>
#include <regex>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/host_path.h"
#include "common/ipv4.h"
#include "common/object.h"
#include "common/quantity.h"

namespace opctl {
namespace {

const std::regex kDns1123Label("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
// Docker's own rule for volume names; the seed's volumes (redis_master_data) need '_'.
const std::regex kVolumeName("[a-zA-Z0-9][a-zA-Z0-9_.-]*");
const std::regex kLabelName("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");
const std::regex kLabelPrefix("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");
const std::regex kEnvName("[A-Za-z_][A-Za-z0-9_]*");
const std::regex kUser("[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?");
const std::regex kImage("[a-z0-9][a-z0-9._/:@-]*");
const std::regex kCapability("(CAP_)?[A-Z][A-Z0-9_]*");
constexpr size_t kMaxNameLength = 63;
// One object, stored and sent whole on every watch: Kubernetes' limit is 1.5 MiB; data belongs in volumes.
constexpr size_t kMaxObjectBytes = 1 << 20;
// Values echoed in messages are cut to this, so one huge value cannot flood a terminal or a log.
constexpr size_t kMaxEchoedValue = 80;

std::string Echo(const std::string& value) {
  if (value.size() <= kMaxEchoedValue) return value;
  return absl::StrCat(value.substr(0, kMaxEchoedValue), "... (", value.size(), " bytes)");
}

// Collects errors for one object; `At` names the field.
class Checker {
 public:
  Checker(int document, std::string object, std::vector<FieldError>& errors)
      : document_(document), object_(std::move(object)), errors_(errors) {}

  void Fail(const std::string& field, const std::string& message) {
    errors_.push_back({document_, object_, field, message});
  }

  void Name(const std::string& field, const std::string& value, bool volume_rule) {
    if (value.empty()) return Fail(field, "is required");
    const std::regex& rule = volume_rule ? kVolumeName : kDns1123Label;
    if (value.size() > kMaxNameLength || !std::regex_match(value, rule)) {
      Fail(field, absl::StrCat("\"", Echo(value), "\" is not a valid name: ",
                               volume_rule ? "letters, digits, '_', '.' and '-', starting with a letter or digit"
                                           : "lower-case letters, digits and '-', starting and ending with a "
                                             "letter or digit (DNS-1123)",
                               ", at most 63 characters"));
    }
  }

  void Labels(const std::string& field, const google::protobuf::Map<std::string, std::string>& labels) {
    for (const auto& [key, value] : labels) {
      std::string path = absl::StrCat(field, ".", key);
      std::string name = key;
      size_t slash = key.find('/');
      if (slash != std::string::npos) {
        std::string prefix = key.substr(0, slash);
        name = key.substr(slash + 1);
        if (prefix.size() > 253 || !std::regex_match(prefix, kLabelPrefix)) {
          Fail(path, absl::StrCat("label key prefix \"", prefix, "\" must be a DNS subdomain"));
        }
      }
      if (name.empty() || name.size() > kMaxNameLength || !std::regex_match(name, kLabelName)) {
        Fail(path, absl::StrCat("\"", Echo(key),
                                "\" is not a valid label key: letters, digits, '-', '_' and '.', at most 63, "
                                "optionally behind a DNS prefix and '/'"));
      }
      if (value.size() > kMaxNameLength || (!value.empty() && !std::regex_match(value, kLabelName))) {
        Fail(path, absl::StrCat("\"", Echo(value),
                                "\" is not a valid label value: letters, digits, '-', '_' and '.', at most 63"));
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
    if (value[0] != '/') Fail(field, absl::StrCat("\"", value, "\" must be an absolute path"));
  }

  void OneOf(const std::string& field, const std::string& value, const std::vector<std::string>& allowed) {
    if (value.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
    Fail(field, absl::StrCat("\"", value, "\" is not one of: ", absl::StrJoin(allowed, ", ")));
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
    check.Fail("spec.gateway", absl::StrCat("\"", spec.gateway(), "\" must be a host address inside ", spec.subnet()));
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
  else if (t.image().size() > 255 || !std::regex_match(t.image(), kImage)) {
    check.Fail(base + "image", absl::StrCat("\"", t.image(), "\" is not a valid image reference"));
  }
  std::set<std::string> env_names;
  for (int i = 0; i < t.env_size(); ++i) {
    std::string path = absl::StrCat(base, "env[", i, "].name");
    if (!std::regex_match(t.env(i).name(), kEnvName)) {
      check.Fail(path, absl::StrCat("\"", t.env(i).name(), "\" is not a valid variable name ([A-Za-z_][A-Za-z0-9_]*)"));
    } else if (!env_names.insert(t.env(i).name()).second) {
      check.Fail(path, absl::StrCat("\"", t.env(i).name(), "\" is set twice"));
    }
  }
  if (!t.user().empty() && !std::regex_match(t.user(), kUser)) {
    check.Fail(base + "user", absl::StrCat("\"", t.user(), "\" is not a user (uid[:gid] or name[:group])"));
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
      check.Fail(path + ".hostIp", absl::StrCat("\"", port.host_ip(), "\" is not an IPv4 address"));
    }
    check.OneOf(path + ".protocol", port.protocol(), {"tcp", "udp"});
    std::string key = absl::StrCat(port.host_ip(), ":", port.host_port() ? port.host_port() : port.container_port(),
                                   "/", port.protocol().empty() ? "tcp" : port.protocol());
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
      check.Fail(path + ".hostPath", absl::StrCat("\"", Echo(mount.host_path()), "\" must be an absolute path"));
    } else if (std::optional<std::string> refused = NeverMountedReason(mount.host_path())) {
      check.Fail(path + ".hostPath", *refused);
    }
    check.AbsolutePath(path + ".mountPath", t.volume_mounts(i).mount_path());
    if (!mount_paths.insert(t.volume_mounts(i).mount_path()).second) {
      check.Fail(path + ".mountPath", absl::StrCat("\"", t.volume_mounts(i).mount_path(), "\" is mounted twice"));
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
               absl::StrCat("\"", resources.memory_limit(), "\" is below Docker's minimum of 6m"));
  }
  if (limit.ok() && reservation.ok() && *reservation > *limit) {
    check.Fail(base + "resources.memoryReservation",
               absl::StrCat("\"", resources.memory_reservation(), "\" is above memoryLimit \"",
                            resources.memory_limit(), "\""));
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
      if (std::regex_match(names->Get(i), kCapability)) continue;
      check.Fail(absl::StrCat(base, "securityContext.capabilities.", list, "[", i, "]"),
                 absl::StrCat("\"", Echo(names->Get(i)), "\" is not a capability name (e.g. NET_ADMIN, or ALL)"));
    }
  }
  if (t.host_network() && !t.ports().empty()) {
    check.Fail(base + "ports",
               "a container on the host's network (hostNetwork) uses the host's ports directly; "
               "drop ports");
  }
  check.OneOf(base + "restartPolicy", t.restart_policy(), {"no", "always", "on-failure", "unless-stopped"});
  check.Labels(base + "labels", t.labels());
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
      check.Fail(path + ".mountPath", absl::StrCat("\"", spec.volume_templates(i).mount_path(), "\" is mounted twice"));
    }
  }
  if (spec.template_().host_network() && (spec.has_network() || spec.additional_networks_size() > 0)) {
    check.Fail("spec.template.hostNetwork",
               "a container on the host's network joins no other network; drop "
               "spec.network and spec.additionalNetworks, or hostNetwork");
  }
  check.Labels("spec.nodeSelector", spec.node_selector());
  if (!spec.on_node_loss().empty() && spec.on_node_loss() != "Reschedule" && spec.on_node_loss() != "Stay") {
    check.Fail("spec.onNodeLoss", absl::StrCat("\"", spec.on_node_loss(), "\" is neither Reschedule nor Stay"));
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
        check.Fail(path + ".name", absl::StrCat("network \"", network->name(), "\" is attached twice"));
      }
    }
    std::set<std::string> seen;
    for (int i = 0; i < network->addresses_size(); ++i) {
      const std::string& address = network->addresses(i);
      std::string address_path = absl::StrCat(path, ".addresses[", i, "]");
      if (!ParseIpv4(address).ok()) {
        check.Fail(address_path, absl::StrCat("\"", address, "\" is not an IPv4 address"));
      } else if (!seen.insert(address).second) {
        check.Fail(address_path, absl::StrCat("\"", address, "\" is listed twice"));
      }
    }
  }
  for (FieldError& error : ValidateReplicas(service, document)) errors.push_back(std::move(error));
}

// Finds an object in the apply first, then in the store.
class Resolver {
 public:
  Resolver(const std::vector<v1::Object>& objects, const ObjectLookup* stored) : objects_(objects), stored_(stored) {}

  // nullopt when absent; `known` false when the answer cannot be known here (no store at hand).
  std::optional<v1::Object> Find(const std::string& kind, const std::string& name, bool& known) const {
    known = true;
    for (const v1::Object& object : objects_) {
      if (KindOf(object) == kind && MetaOf(object).name() == name) return object;
    }
    if (stored_ == nullptr) {
      known = false;
      return std::nullopt;
    }
    return stored_->Find(kind, name);
  }

  // Objects of `kind` in the apply, plus stored ones the apply does not replace.
  std::vector<v1::Object> OfKind(const std::string& kind) const {
    std::vector<v1::Object> found;
    std::set<std::string> names;
    for (const v1::Object& object : objects_) {
      if (KindOf(object) == kind) {
        found.push_back(object);
        names.insert(MetaOf(object).name());
      }
    }
    if (stored_ != nullptr) {
      for (v1::Object& object : stored_->ListKind(kind)) {
        if (!names.count(MetaOf(object).name())) found.push_back(std::move(object));
      }
    }
    return found;
  }

 private:
  const std::vector<v1::Object>& objects_;
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
      check.Fail(path + ".name", absl::StrCat("network \"", attached.name(),
                                              "\" does not exist; declare it in the same apply or apply it first"));
    }
    return;
  }
  const v1::NetworkSpec& network_spec = network->network().spec();
  if (attached.addresses().empty()) return;
  absl::StatusOr<Ipv4Subnet> subnet = ParseIpv4Subnet(network_spec.subnet());
  if (!subnet.ok() && !network_spec.subnet().empty()) return;  // the network's own error says why
  if (!subnet.ok()) {
    check.Fail(path + ".addresses",
               absl::StrCat("static addresses need a subnet on network \"", attached.name(), "\""));
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
      check.Fail(address_path, absl::StrCat("\"", text, "\" is outside network \"", attached.name(), "\" (",
                                            network_spec.subnet(), ")"));
    } else if (*address == subnet->network || *address == subnet->broadcast()) {
      check.Fail(address_path,
                 absl::StrCat("\"", text, "\" is the network or broadcast address of ", network_spec.subnet()));
    } else if (*address == gateway) {
      check.Fail(address_path, absl::StrCat("\"", text, "\" is the gateway of network \"", attached.name(), "\""));
    } else if (auto [it, inserted] = taken.emplace(*address, service_name); !inserted && it->second != service_name) {
      check.Fail(address_path, absl::StrCat("\"", text, "\" is already used by service/", it->second, " on network \"",
                                            attached.name(), "\""));
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
    if (!resolver.Find("Volume", name, known) && known) {
      check.Fail(absl::StrCat("spec.template.volumeMounts[", i, "].name"),
                 absl::StrCat("volume \"", name, "\" does not exist; declare it in the same apply or apply it first"));
    }
  }
  for (const auto& [path, network] : NetworksOf(spec)) {
    ValidateNetworkReference(check, service.metadata().name(), path, *network, resolver, addresses_by_network);
  }
}

}  // namespace

std::string FieldError::ToString() const {
  return field.empty() ? absl::StrCat(object, ": ", message) : absl::StrCat(object, " ", field, ": ", message);
}

std::vector<FieldError> ValidateObject(const v1::Object& object, int document) {
  std::vector<FieldError> errors;
  std::string kind = KindOf(object);
  if (kind.empty()) {
    errors.push_back({document, "", "kind", absl::StrCat("is required; one of ", KnownKindNames())});
    return errors;
  }
  const v1::ObjectMeta& meta = MetaOf(object);
  Checker check(document, DisplayName(object), errors);
  if (size_t bytes = object.ByteSizeLong(); bytes > kMaxObjectBytes) {
    check.Fail("", absl::StrCat("is ", bytes >> 10, " KiB; an object may be at most ", kMaxObjectBytes >> 20,
                                " MiB (keep large data in volumes)"));
    return errors;
  }
  ValidateMeta(check, kind, meta);
  if (kind == "Network") ValidateNetwork(check, object.network().spec());
  if (kind == "Volume") ValidateVolume(check, object.volume().spec());
  if (kind == "Service") ValidateService(check, object.service(), document, errors);
  return errors;
}

std::vector<FieldError> ValidateReplicas(const v1::Service& service, int document) {
  std::vector<FieldError> errors;
  Checker check(document, DisplayName("Service", service.metadata().name()), errors);
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
// Checked on the networks being applied, against each other and the stored ones.
void ValidateSubnetsApart(const std::vector<v1::Object>& networks, const std::map<std::string, int>& first_document,
                          std::vector<FieldError>& errors) {
  std::vector<std::pair<const v1::Object*, Ipv4Subnet>> subnets;
  for (const v1::Object& network : networks) {
    absl::StatusOr<Ipv4Subnet> subnet = ParseIpv4Subnet(network.network().spec().subnet());
    if (subnet.ok()) subnets.emplace_back(&network, *subnet);
  }
  for (size_t i = 0; i < subnets.size(); ++i) {
    auto document = first_document.find(StoreKey(*subnets[i].first));
    if (document == first_document.end()) continue;  // stored: not this apply's to fix
    for (size_t j = 0; j < subnets.size(); ++j) {
      if (i == j) continue;
      const Ipv4Subnet& mine = subnets[i].second;
      const Ipv4Subnet& theirs = subnets[j].second;
      bool overlap = mine.Contains(theirs.network) || theirs.Contains(mine.network);
      // Report a pair within the apply once, on the later document.
      auto other = first_document.find(StoreKey(*subnets[j].first));
      if (!overlap || (other != first_document.end() && other->second > document->second)) continue;
      const v1::Network& network = subnets[i].first->network();
      const v1::Network& clash = subnets[j].first->network();
      errors.push_back({document->second, DisplayName(*subnets[i].first), "spec.subnet",
                        absl::StrCat(network.spec().subnet(), " overlaps network \"", clash.metadata().name(), "\" (",
                                     clash.spec().subnet(), "); Docker refuses overlapping subnets on one host")});
      break;
    }
  }
}

}  // namespace

std::vector<FieldError> ValidateApply(const std::vector<v1::Object>& objects, const ObjectLookup* stored) {
  std::vector<FieldError> errors;
  std::map<std::string, int> first_document;
  for (int i = 0; i < static_cast<int>(objects.size()); ++i) {
    const v1::Object& object = objects[i];
    for (FieldError& error : ValidateObject(object, i)) errors.push_back(std::move(error));
    std::string kind = KindOf(object);
    if (kind == "Container" || kind == "Node") {
      errors.push_back({i, DisplayName(object), "kind",
                        kind == "Container" ? "Containers are written by the controller; apply a Service instead"
                                            : "Nodes are registered by their agent; they cannot be applied"});
    }
    if (kind.empty()) continue;
    auto [it, inserted] = first_document.emplace(StoreKey(object), i);
    if (!inserted) {
      errors.push_back(
          {i, DisplayName(object), "metadata.name",
           absl::StrCat("duplicate: ", DisplayName(object), " is already declared in document ", it->second + 1)});
    }
  }
  Resolver resolver(objects, stored);
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
