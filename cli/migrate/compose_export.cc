#include "cli/migrate/compose_export.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "cli/migrate/yaml_tree.h"
#include "common/log_driver.h"

namespace opctl::cli::exporting {
namespace {

class ComposeWriter {
 public:
  ComposeWriter(const Stack& stack, const std::vector<Stack>& all, bool swarm, Warnings& warn)
      : stack_(stack), swarm_(swarm), warn_(warn) {
    // Another stack's service is reached as STACK_SERVICE, the name `docker stack deploy` gives it.
    for (const Stack& other : all) {
      names_.merge(AddressNames(other, [&](const v1::Service& s, int i) {
        return other.name == stack.name ? ReplicaName(s, i) : absl::StrCat(other.name, "_", ReplicaName(s, i));
      }));
    }
  }

  std::string Write() {
    root_["version"] = swarm_ ? "3.8" : "2.4";
    root_["x-opctl"]["stack"] = stack_.name;
    for (const v1::Network* network : stack_.networks) Network(*network);
    for (const v1::Volume* volume : stack_.volumes) Volume(*volume);
    root_["services"] = YamlTree::Map();
    for (const v1::Service* service : stack_.services) Service(*service);
    // Put services before networks and volumes, as people write them.
    YamlTree ordered;
    for (const char* key : {"version", "x-opctl", "services", "networks", "volumes"}) {
      if (root_.Has(key)) ordered[key] = root_[key];
    }
    return ordered.ToYaml();
  }

 private:
  void Network(const v1::Network& network) {
    const std::string& name = network.metadata().name();
    const v1::NetworkSpec& spec = network.spec();
    YamlTree& out = root_["networks"][name];
    declared_networks_.insert(name);
    out["name"] = name;  // the Docker network keeps opctl's name, not PROJECT_NAME
    out["driver"] = swarm_ ? "overlay" : "bridge";
    if (swarm_) out["attachable"] = true;
    if (spec.internal()) out["internal"] = true;
    if (spec.mtu() != 0) out["driver_opts"]["com.docker.network.driver.mtu"] = std::to_string(spec.mtu());
    if (spec.subnet().empty()) return;
    YamlTree config;
    config["subnet"] = spec.subnet();
    if (!spec.gateway().empty() && !swarm_) config["gateway"] = spec.gateway();
    if (!spec.gateway().empty() && swarm_)
      warn_.Add("network/" + name, "spec.gateway", "left out: stack files take only the subnet");
    out["ipam"]["config"].Push(config);
  }

  void Volume(const v1::Volume& volume) {
    const std::string& name = volume.metadata().name();
    YamlTree& out = root_["volumes"][name];
    out["name"] = name;  // the data opctl kept under this Docker volume name stays in use
    if (volume.spec().adopt_existing()) out["external"] = true;
    if (volume.spec().has_backup()) {
      out["x-opctl"]["backup"]["schedule"] = volume.spec().backup().schedule();
      out["x-opctl"]["backup"]["keep"] = volume.spec().backup().keep();
      warn_.Add("volume/" + name, "spec.backup", "not run by compose: back the volume up yourself");
    }
  }

  void Service(const v1::Service& service) {
    if (!PerReplica(service)) {
      YamlTree& out = root_["services"][service.metadata().name()];
      Body(service, -1, out);
      if (service.spec().replicas() != 1) {
        if (swarm_)
          out["deploy"]["replicas"] = service.spec().replicas();
        else
          out["scale"] = service.spec().replicas();
      }
      return;
    }
    if (service.spec().replicas() == 0)
      warn_.Add(Subject(service), "spec.replicas", "0: no compose service is written for it");
    for (int i = 0; i < service.spec().replicas(); ++i) {
      YamlTree& out = root_["services"][ReplicaName(service, i)];
      Body(service, i, out);
      out["x-opctl"]["service"] = service.metadata().name();
      out["x-opctl"]["ordinal"] = i;
      out["x-opctl"]["replicas"] = service.spec().replicas();
      for (const v1::ServiceNetwork* network : NetworksOf(service)) {
        if (network->addresses_size() > 0)
          out["x-opctl"]["addresses"][network->name()] = YamlTree::ListOf(network->addresses());
      }
      for (const v1::VolumeTemplate& volume : service.spec().volume_templates()) {
        YamlTree entry;
        entry["name"] = volume.name();
        entry["mountPath"] = volume.mount_path();
        out["x-opctl"]["volumeTemplates"].Push(entry);
      }
      if (swarm_) {
        out["hostname"] = ReplicaName(service, i);  // what it announces (Redis announce-hostnames)
        out["deploy"]["endpoint_mode"] = "dnsrr";   // its name resolves to its own address, not a virtual one
      }
    }
    if (service.spec().replicas() > 1) {  // per replica here: the single case returned above
      warn_.Add(Subject(service), "spec.replicas",
                absl::StrCat("written as ", service.spec().replicas(), " services ", ReplicaName(service, 0),
                             "...: ", "each replica has its own address or volumes; scale by adding one"));
    }
  }

  static std::string Subject(const v1::Service& service) { return "service/" + service.metadata().name(); }
  static std::vector<const v1::ServiceNetwork*> NetworksOf(const v1::Service& service) {
    std::vector<const v1::ServiceNetwork*> networks;
    if (!service.spec().network().name().empty()) networks.push_back(&service.spec().network());
    for (const auto& more : service.spec().additional_networks()) networks.push_back(&more);
    return networks;
  }

  // One compose service: the Service's template, as replica `ordinal` (-1: all replicas alike).
  void Body(const v1::Service& service, int ordinal, YamlTree& out) {
    const v1::ContainerTemplate& container = service.spec().template_();
    out["image"] = container.image();
    if (container.command_size() > 0) out["entrypoint"] = YamlTree::ListOf(container.command());
    if (container.args_size() > 0) out["command"] = YamlTree::ListOf(container.args());
    Environment(service, out);
    if (!container.user().empty()) out["user"] = container.user();
    if (!container.working_dir().empty()) out["working_dir"] = container.working_dir();
    Labels(service, out);
    Ports(service, out);
    Mounts(service, ordinal, out);
    Networks(service, ordinal, out);
    Resources(service, out);
    Health(container, out);
    Restart(service, out);
    Security(service, out);
    Logging(container, out);
    Extensions(service, out);
  }

  void Environment(const v1::Service& service, YamlTree& out) {
    for (const v1::EnvVar& env : service.spec().template_().env()) {
      bool replaced = false;
      std::string value = swarm_ ? ReplaceAddresses(env.value(), names_, &replaced) : env.value();
      if (replaced) {
        warn_.Add(Subject(service), "env." + env.name(),
                  absl::StrCat("addresses replaced by the replicas' service names (\"", value,
                               "\"): Swarm gives services no fixed address"));
      }
      out["environment"][env.name()] = value;
    }
  }

  void Labels(const v1::Service& service, YamlTree& out) {
    for (const auto& [key, value] : std::map(service.metadata().labels().begin(), service.metadata().labels().end()))
      out["labels"][key] = value;
    std::map template_labels(service.spec().template_().labels().begin(), service.spec().template_().labels().end());
    for (const auto& [key, value] : template_labels) {
      out["labels"][key] = value;
      out["x-opctl"]["templateLabels"].Push(key);
    }
  }

  void Ports(const v1::Service& service, YamlTree& out) {
    for (const v1::PortMapping& port : service.spec().template_().ports()) {
      int host_port = port.host_port() == 0 ? port.container_port() : port.host_port();
      std::string ip = port.host_ip().empty() ? "127.0.0.1" : port.host_ip();
      std::string protocol = port.protocol().empty() ? "tcp" : port.protocol();
      if (!swarm_) {
        out["ports"].Push(
            absl::StrCat(ip, ":", host_port, ":", port.container_port(), protocol == "tcp" ? "" : "/" + protocol));
        continue;
      }
      YamlTree entry;
      entry["target"] = port.container_port();
      entry["published"] = host_port;
      entry["protocol"] = protocol;
      entry["mode"] = "host";  // on the node that runs it, as opctl publishes; not Swarm's routing mesh
      out["ports"].Push(entry);
      if (ip != "0.0.0.0") {
        warn_.Add(Subject(service), absl::StrCat("template.ports[", port.container_port(), "].hostIp"),
                  absl::StrCat(ip, " left out: Swarm publishes on every interface of the node"));
      }
    }
  }

  void Mounts(const v1::Service& service, int ordinal, YamlTree& out) {
    for (const v1::VolumeMount& mount : service.spec().template_().volume_mounts()) {
      std::string source = mount.host_path().empty() ? mount.name() : mount.host_path();
      out["volumes"].Push(absl::StrCat(source, ":", mount.mount_path(), mount.read_only() ? ":ro" : ""));
      if (!mount.host_path().empty() && swarm_) {
        warn_.Add(Subject(service), "template.volumeMounts." + mount.mount_path(),
                  "a host path: it must exist on every node the service can land on");
      }
    }
    for (const v1::VolumeTemplate& volume : service.spec().volume_templates()) {
      std::string name = absl::StrCat(volume.name(), "-", ReplicaName(service, ordinal));
      out["volumes"].Push(absl::StrCat(name, ":", volume.mount_path()));
      YamlTree& declared = root_["volumes"][name];
      declared["name"] = name;
      declared["x-opctl"]["volumeTemplate"] = volume.name();
      declared["x-opctl"]["service"] = service.metadata().name();
    }
    if (swarm_ && service.spec().volume_templates_size() > 0) {
      warn_.Add(Subject(service), "spec.volumeTemplates",
                "Swarm volumes are per node: a replica moved to another node starts with an empty volume");
    }
  }

  void Networks(const v1::Service& service, int ordinal, YamlTree& out) {
    if (service.spec().template_().host_network()) {
      out["network_mode"] = "host";
      if (swarm_) warn_.Add(Subject(service), "template.hostNetwork", "not a stack file field: left out");
      return;
    }
    for (const v1::ServiceNetwork* network : NetworksOf(service)) {
      if (!declared_networks_.count(network->name()) && !root_["networks"].Has(network->name())) {
        // Another stack's Network: compose uses it as it is.
        root_["networks"][network->name()]["external"] = true;
        root_["networks"][network->name()]["name"] = network->name();
        warn_.Add(Subject(service), "spec.network " + network->name(),
                  "another stack's Network: declared external, so that stack must be up first");
      }
      if (swarm_ || ordinal < 0 || ordinal >= network->addresses_size()) {
        out["networks"][network->name()] = YamlTree::Map();
        if (swarm_ && network->addresses_size() > 0) {
          warn_.Add(Subject(service), "spec.network " + network->name() + " addresses",
                    "left out: Swarm gives services no fixed address (moby#24170); use the service names");
        }
        continue;
      }
      out["networks"][network->name()]["ipv4_address"] = network->addresses(ordinal);
    }
  }

  void Resources(const v1::Service& service, YamlTree& out) {
    const v1::Resources& resources = service.spec().template_().resources();
    int64_t pids = PidsLimitOf(service.spec().template_());
    if (!swarm_) {
      if (!resources.memory_limit().empty()) out["mem_limit"] = ComposeMemory(resources.memory_limit());
      if (!resources.memory_reservation().empty())
        out["mem_reservation"] = ComposeMemory(resources.memory_reservation());
      if (!resources.cpus().empty()) out["cpus"] = DecimalCpus(resources.cpus());
      if (pids > 0) out["pids_limit"] = pids;
      return;
    }
    YamlTree& limits = out["deploy"]["resources"]["limits"];
    if (!resources.memory_limit().empty()) limits["memory"] = ComposeMemory(resources.memory_limit());
    if (!resources.cpus().empty()) limits["cpus"] = DecimalCpus(resources.cpus());
    if (!resources.memory_reservation().empty())
      out["deploy"]["resources"]["reservations"]["memory"] = ComposeMemory(resources.memory_reservation());
    if (resources.pids_limit() != 0)
      warn_.Add(Subject(service), "template.resources.pidsLimit", "left out: not a stack file field");
  }

  static void Health(const v1::ContainerTemplate& container, YamlTree& out) {
    if (!container.has_healthcheck()) return;
    const v1::HealthCheck& check = container.healthcheck();
    YamlTree& health = out["healthcheck"];
    if (check.test_size() == 1 && check.test(0) == "NONE") {
      health["disable"] = true;
      return;
    }
    health["test"] = YamlTree::ListOf(check.test());
    if (!check.interval().empty()) health["interval"] = check.interval();
    if (!check.timeout().empty()) health["timeout"] = check.timeout();
    if (check.retries() != 0) health["retries"] = check.retries();
    if (!check.start_period().empty()) health["start_period"] = check.start_period();
  }

  void Restart(const v1::Service& service, YamlTree& out) {
    std::string policy = RestartPolicyOf(service.spec().template_());
    if (!swarm_) {
      out["restart"] = policy;
      return;
    }
    out["deploy"]["restart_policy"]["condition"] = policy == "no"           ? "none"
                                                   : policy == "on-failure" ? "on-failure"
                                                                            : "any";
  }

  void Security(const v1::Service& service, YamlTree& out) {
    const v1::SecurityContext& security = service.spec().template_().security_context();
    if (swarm_) {
      if (security.privileged() || security.capabilities().add_size() > 0 || security.capabilities().drop_size() > 0)
        warn_.Add(Subject(service), "template.securityContext",
                  "privileged and capabilities left out: Swarm "
                  "services cannot set them");
      if (security.read_only_root_filesystem()) out["read_only"] = true;
      return;
    }
    if (security.privileged()) out["privileged"] = true;
    if (security.read_only_root_filesystem()) out["read_only"] = true;
    if (security.capabilities().add_size() > 0) out["cap_add"] = YamlTree::ListOf(security.capabilities().add());
    if (security.capabilities().drop_size() > 0) out["cap_drop"] = YamlTree::ListOf(security.capabilities().drop());
    out["security_opt"].Push(security.allow_privilege_escalation() ? "no-new-privileges:false"
                                                                   : "no-new-privileges:true");
    if (service.spec().template_().host_pid()) out["pid"] = "host";
  }

  static void Logging(const v1::ContainerTemplate& container, YamlTree& out) {
    std::string driver = LogDriverOf(container.logs());
    out["logging"]["driver"] = driver;
    if (LogDriverRotates(driver)) {
      out["logging"]["options"]["max-size"] = LogMaxSizeOf(container);
      out["logging"]["options"]["max-file"] = std::to_string(LogMaxFilesOf(container));
    }
    // The driver's own options in key order: the same objects give the same bytes.
    std::map<std::string, std::string> options(container.logs().options().begin(), container.logs().options().end());
    for (const auto& [key, value] : options) out["logging"]["options"][key] = value;
  }

  // What compose has no field for: kept for `opctl convert`, and each one said.
  void Extensions(const v1::Service& service, YamlTree& out) {
    const v1::ServiceSpec& spec = service.spec();
    YamlTree& x = out["x-opctl"];
    if (spec.template_().lifecycle().pre_stop().exec().command_size() > 0) {
      x["preStop"] = YamlTree::ListOf(spec.template_().lifecycle().pre_stop().exec().command());
      warn_.Add(Subject(service), "template.lifecycle.preStop",
                swarm_ ? "not run: Swarm has no pre-stop hook" : "not run: compose has no pre-stop hook");
    }
    if (!spec.node_selector().empty()) {
      for (const auto& [key, value] : std::map(spec.node_selector().begin(), spec.node_selector().end())) {
        if (swarm_) out["deploy"]["placement"]["constraints"].Push(absl::StrCat("node.labels.", key, " == ", value));
        x["nodeSelector"][key] = value;
      }
      if (!swarm_) warn_.Add(Subject(service), "spec.nodeSelector", "no meaning on compose's one host");
    }
    if (spec.has_placement()) {
      if (spec.placement().max_replicas_per_node() > 0) {
        x["placement"]["maxReplicasPerNode"] = spec.placement().max_replicas_per_node();
        if (swarm_ && !PerReplica(service))
          out["deploy"]["placement"]["max_replicas_per_node"] = spec.placement().max_replicas_per_node();
      }
      if (spec.placement().apart_from_size() > 0)
        x["placement"]["apartFrom"] = YamlTree::ListOf(spec.placement().apart_from());
      warn_.Add(Subject(service), "spec.placement",
                swarm_ ? "apartFrom and per-replica spread are not stack file fields: left out"
                       : "no meaning on compose's one host");
    }
    if (!spec.on_node_loss().empty()) x["onNodeLoss"] = spec.on_node_loss();
    Rollout(service, out, x);
    if (!service.metadata().annotations().empty()) {
      for (const auto& [key, value] :
           std::map(service.metadata().annotations().begin(), service.metadata().annotations().end()))
        x["annotations"][key] = value;
    }
    if (x.Empty()) out.Erase("x-opctl");
  }

  // The rollout, for opctl convert, in x-opctl; Swarm rolls by deploy.update_config too, its
  // parallelism the batch (stop-first: replicas keep their addresses), with no deadline or history.
  void Rollout(const v1::Service& service, YamlTree& out, YamlTree& x) {
    const v1::RolloutStrategy& rollout = service.spec().rollout();
    if (rollout.ByteSizeLong() == 0) return;
    if (rollout.max_unavailable() > 0) x["rollout"]["maxUnavailable"] = rollout.max_unavailable();
    if (rollout.progress_deadline_seconds() > 0)
      x["rollout"]["progressDeadlineSeconds"] = rollout.progress_deadline_seconds();
    if (rollout.revision_history_limit() > 0) x["rollout"]["revisionHistoryLimit"] = rollout.revision_history_limit();
    if (!swarm_) {
      warn_.Add(Subject(service), "spec.rollout", "no meaning to compose, which recreates containers all at once");
      return;
    }
    out["deploy"]["update_config"]["parallelism"] = std::max(rollout.max_unavailable(), 1);
    out["deploy"]["update_config"]["order"] = "stop-first";
    if (rollout.progress_deadline_seconds() > 0 || rollout.revision_history_limit() > 0)
      warn_.Add(Subject(service), "spec.rollout", "Swarm has no progress deadline and keeps one previous spec");
  }

  const Stack& stack_;
  bool swarm_;
  Warnings& warn_;
  std::map<std::string, std::string> names_;
  std::set<std::string> declared_networks_;
  YamlTree root_;
};

}  // namespace

std::string ComposeFileOf(const Stack& stack, const std::vector<Stack>& all, bool swarm, Warnings& warn) {
  return ComposeWriter(stack, all, swarm, warn).Write();
}

}  // namespace opctl::cli::exporting
