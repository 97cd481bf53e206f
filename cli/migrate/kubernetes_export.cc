#include "cli/migrate/kubernetes_export.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/migrate/yaml_tree.h"
#include "common/object.h"
#include "common/quantity.h"

namespace opctl::cli::exporting {
namespace {

// Kubernetes names (DNS-1123 labels): lower case, '-' for what else Docker allows.
std::string KubernetesName(const std::string& name) {
  std::string out = absl::AsciiStrToLower(name);
  for (char& c : out) {
    if (!absl::ascii_isalnum(c)) c = '-';
  }
  return out;
}

std::string ClusterCpu(const std::string& quantity) {
  absl::StatusOr<int64_t> milli = ParseMilliCpus(quantity);
  if (!milli.ok()) return quantity;
  return *milli % 1000 == 0 ? absl::StrCat(*milli / 1000) : absl::StrCat(*milli, "m");
}

std::string ClusterMemory(const std::string& quantity) {
  absl::StatusOr<int64_t> bytes = ParseMemoryBytes(quantity);
  return bytes.ok() ? FormatMemoryBytes(*bytes) : quantity;
}

constexpr char kAssumedStorage[] = "1Gi";

class KubernetesWriter {
 public:
  KubernetesWriter(const Stack& stack, const std::vector<Stack>& all, Warnings& warn)
      : stack_(stack), namespace_(KubernetesName(stack.name)), warn_(warn) {
    for (const Stack& other : all) {
      std::string ns = KubernetesName(other.name);
      names_.merge(AddressNames(other, [&](const v1::Service& s, int i) {
        return absl::StrCat(ReplicaName(s, i), ".", s.metadata().name(), ".", ns, ".svc.cluster.local");
      }));
    }
    for (const v1::Volume* volume : stack.volumes) claims_.insert(volume->metadata().name());
  }

  std::string Write() {
    YamlTree ns;
    ns["apiVersion"] = "v1";
    ns["kind"] = "Namespace";
    ns["metadata"]["name"] = namespace_;
    Emit(ns);
    if (namespace_ != stack_.name)
      warn_.Add("stack/" + stack_.name, "name", "Namespace " + namespace_ + ": Kubernetes names are DNS labels");
    for (const v1::Network* network : stack_.networks) {
      warn_.Add("network/" + network->metadata().name(), "spec",
                "not written: Kubernetes has no user-defined subnets; pods reach each other by the headless "
                "Services' DNS names");
    }
    for (const v1::Volume* volume : stack_.volumes) Claim(*volume);
    for (const v1::Service* service : stack_.services) {
      HeadlessService(*service);
      StatefulSet(*service);
    }
    return text_;
  }

 private:
  void Emit(const YamlTree& object) { text_ += "---\n" + object.ToYaml(); }
  static std::string Subject(const v1::Service& service) { return "service/" + service.metadata().name(); }

  YamlTree Metadata(const std::string& name, const google::protobuf::Map<std::string, std::string>& labels) const {
    YamlTree meta;
    meta["name"] = name;
    meta["namespace"] = namespace_;
    for (const auto& [key, value] : std::map(labels.begin(), labels.end())) meta["labels"][key] = value;
    return meta;
  }

  static YamlTree ClaimSpec() {
    YamlTree spec;
    spec["accessModes"].Push("ReadWriteOnce");
    spec["resources"]["requests"]["storage"] = kAssumedStorage;
    return spec;
  }

  void Claim(const v1::Volume& volume) {
    const std::string& name = volume.metadata().name();
    YamlTree claim;
    claim["apiVersion"] = "v1";
    claim["kind"] = "PersistentVolumeClaim";
    claim["metadata"] = Metadata(KubernetesName(name), volume.metadata().labels());
    claim["spec"] = ClaimSpec();
    Emit(claim);
    std::string subject = "volume/" + name;
    if (KubernetesName(name) != name) warn_.Add(subject, "metadata.name", "claim " + KubernetesName(name));
    warn_.Add(subject, "size", absl::StrCat("opctl Volumes have no size: the claim asks for ", kAssumedStorage));
    if (volume.spec().has_backup())
      warn_.Add(subject, "spec.backup", "not written: back it up with the cluster's tools (e.g. volume snapshots)");
  }

  void HeadlessService(const v1::Service& service) {
    YamlTree out;
    out["apiVersion"] = "v1";
    out["kind"] = "Service";
    out["metadata"] = Metadata(service.metadata().name(), service.metadata().labels());
    out["spec"]["clusterIP"] = "None";  // headless: each replica's own DNS name, as opctl's fixed addresses
    out["spec"]["publishNotReadyAddresses"] = true;  // replicas find each other while they start
    out["spec"]["selector"][kServiceLabel] = service.metadata().name();
    for (const v1::PortMapping& port : service.spec().template_().ports()) {
      YamlTree entry;
      entry["name"] = absl::StrCat(port.protocol().empty() ? "tcp" : port.protocol(), "-", port.container_port());
      entry["port"] = port.container_port();
      entry["protocol"] = port.protocol() == "udp" ? "UDP" : "TCP";
      out["spec"]["ports"].Push(entry);
    }
    Emit(out);
  }

  void StatefulSet(const v1::Service& service) {
    const v1::ServiceSpec& spec = service.spec();
    YamlTree out;
    out["apiVersion"] = "apps/v1";
    out["kind"] = "StatefulSet";
    out["metadata"] = Metadata(service.metadata().name(), service.metadata().labels());
    YamlTree& set = out["spec"];
    set["serviceName"] = service.metadata().name();
    set["replicas"] = spec.replicas();
    set["podManagementPolicy"] = "Parallel";  // opctl starts every replica at once
    const v1::RolloutStrategy& rollout = spec.rollout();
    if (rollout.revision_history_limit() > 0) set["revisionHistoryLimit"] = rollout.revision_history_limit();
    if (rollout.max_unavailable() > 1) {  // the field is beta: its feature gate MaxUnavailableStatefulSet
      set["updateStrategy"]["type"] = "RollingUpdate";
      set["updateStrategy"]["rollingUpdate"]["maxUnavailable"] = rollout.max_unavailable();
    }
    set["selector"]["matchLabels"][kServiceLabel] = service.metadata().name();
    YamlTree& pod = set["template"];
    pod["metadata"]["labels"] = YamlTree::Map();
    for (const auto& [key, value] : std::map(service.metadata().labels().begin(), service.metadata().labels().end()))
      pod["metadata"]["labels"][key] = value;
    pod["metadata"]["labels"][kServiceLabel] = service.metadata().name();
    PodSpec(service, pod["spec"]);
    for (const v1::VolumeTemplate& volume : spec.volume_templates()) {
      YamlTree claim;
      claim["metadata"]["name"] = volume.name();
      claim["spec"] = ClaimSpec();
      set["volumeClaimTemplates"].Push(claim);
    }
    Notes(service);
    Emit(out);
  }

  void PodSpec(const v1::Service& service, YamlTree& pod) {
    const v1::ContainerTemplate& container = service.spec().template_();
    YamlTree& out = pod["containers"].Push(YamlTree::Map());
    out["name"] = service.metadata().name();
    out["image"] = container.image();
    if (container.command_size() > 0) out["command"] = YamlTree::ListOf(container.command());
    if (container.args_size() > 0) out["args"] = YamlTree::ListOf(container.args());
    if (!container.working_dir().empty()) out["workingDir"] = container.working_dir();
    Environment(service, out);
    Ports(service, out);
    Resources(container, out);
    Probes(container, out);
    if (container.lifecycle().pre_stop().exec().command_size() > 0) {
      out["lifecycle"]["preStop"]["exec"]["command"] =
          YamlTree::ListOf(container.lifecycle().pre_stop().exec().command());
    }
    Security(service, out);
    Mounts(service, out, pod);
    if (!service.spec().node_selector().empty()) {
      const auto& selector = service.spec().node_selector();
      for (const auto& [key, value] : std::map(selector.begin(), selector.end())) pod["nodeSelector"][key] = value;
    }
    Affinity(service, pod);
    if (container.host_network()) pod["hostNetwork"] = true;
    if (container.host_pid()) pod["hostPID"] = true;
  }

  void Environment(const v1::Service& service, YamlTree& out) {
    for (const v1::EnvVar& env : service.spec().template_().env()) {
      bool replaced = false;
      std::string value = ReplaceAddresses(env.value(), names_, &replaced);
      YamlTree entry;
      entry["name"] = env.name();
      entry["value"] = value;
      out["env"].Push(entry);
      if (replaced) {
        warn_.Add(Subject(service), "env." + env.name(),
                  absl::StrCat("fixed addresses cannot exist in Kubernetes: replaced by the replicas' DNS names (\"",
                               value, "\")"));
      }
    }
  }

  void Ports(const v1::Service& service, YamlTree& out) {
    for (const v1::PortMapping& port : service.spec().template_().ports()) {
      YamlTree entry;
      entry["containerPort"] = port.container_port();
      entry["protocol"] = port.protocol() == "udp" ? "UDP" : "TCP";
      out["ports"].Push(entry);
      warn_.Add(Subject(service), absl::StrCat("template.ports[", port.container_port(), "]"),
                "not published on the node: reach it with kubectl port-forward or a NodePort Service");
    }
  }

  static void Resources(const v1::ContainerTemplate& container, YamlTree& out) {
    const v1::Resources& resources = container.resources();
    if (!resources.memory_limit().empty())
      out["resources"]["limits"]["memory"] = ClusterMemory(resources.memory_limit());
    if (!resources.cpus().empty()) out["resources"]["limits"]["cpu"] = ClusterCpu(resources.cpus());
    if (!resources.memory_reservation().empty())
      out["resources"]["requests"]["memory"] = ClusterMemory(resources.memory_reservation());
  }

  static YamlTree Probe(const v1::HealthCheck& check, bool liveness) {
    YamlTree probe;
    std::vector<std::string> command(check.test().begin() + 1, check.test().end());
    if (check.test(0) == "CMD-SHELL") command = {"/bin/sh", "-c", absl::StrJoin(command, " ")};
    probe["exec"]["command"] = YamlTree::ListOf(command);
    // The start period is a grace time for liveness only: readiness simply is not there yet.
    if (liveness && DurationSeconds(check.start_period()) > 0)
      probe["initialDelaySeconds"] = DurationSeconds(check.start_period());
    if (DurationSeconds(check.interval()) > 0) probe["periodSeconds"] = DurationSeconds(check.interval());
    if (DurationSeconds(check.timeout()) > 0) probe["timeoutSeconds"] = DurationSeconds(check.timeout());
    if (check.retries() > 0) probe["failureThreshold"] = check.retries();
    return probe;
  }

  static void Probes(const v1::ContainerTemplate& container, YamlTree& out) {
    const v1::HealthCheck& check = container.healthcheck();
    if (check.test_size() < 2 || (check.test(0) != "CMD" && check.test(0) != "CMD-SHELL")) return;
    out["readinessProbe"] = Probe(check, false);
    out["livenessProbe"] = Probe(check, true);
  }

  void Security(const v1::Service& service, YamlTree& out) {
    const v1::ContainerTemplate& container = service.spec().template_();
    const v1::SecurityContext& security = container.security_context();
    YamlTree& context = out["securityContext"];
    std::vector<std::string> user = absl::StrSplit(container.user(), ':');
    int64_t uid = -1, gid = -1;
    if (container.user() == "root") uid = 0;
    if (!container.user().empty() && uid < 0 && !absl::SimpleAtoi(user[0], &uid)) {
      warn_.Add(Subject(service), "template.user",
                "\"" + container.user() + "\" left out: Kubernetes takes numeric ids; runAsNonRoot is set instead");
    }
    if (uid >= 0) context["runAsUser"] = uid;
    if (user.size() > 1 && absl::SimpleAtoi(user[1], &gid)) context["runAsGroup"] = gid;
    if (uid != 0) context["runAsNonRoot"] = true;  // opctl refuses an image whose user is root unless asked
    if (security.privileged()) context["privileged"] = true;
    // Kubernetes refuses a privileged container that may not escalate.
    context["allowPrivilegeEscalation"] = security.allow_privilege_escalation() || security.privileged();
    if (security.read_only_root_filesystem()) context["readOnlyRootFilesystem"] = true;
    auto capability = [](const std::string& name) {
      std::string upper = absl::AsciiStrToUpper(name);
      return absl::StartsWith(upper, "CAP_") ? upper.substr(4) : upper;
    };
    for (const std::string& add : security.capabilities().add()) context["capabilities"]["add"].Push(capability(add));
    for (const std::string& drop : security.capabilities().drop())
      context["capabilities"]["drop"].Push(capability(drop));
  }

  void Mounts(const v1::Service& service, YamlTree& out, YamlTree& pod) {
    int host_paths = 0;
    for (const v1::VolumeMount& mount : service.spec().template_().volume_mounts()) {
      YamlTree entry, volume;
      if (mount.host_path().empty()) {
        std::string claim = KubernetesName(mount.name());
        entry["name"] = claim;
        volume["name"] = claim;
        volume["persistentVolumeClaim"]["claimName"] = claim;
        if (!claims_.count(mount.name())) {
          warn_.Add(Subject(service), "template.volumeMounts." + mount.name(),
                    "another stack's Volume: a claim of that name must exist in namespace " + namespace_);
        }
      } else {
        entry["name"] = absl::StrCat("host-", host_paths++);
        volume["name"] = entry["name"];
        volume["hostPath"]["path"] = mount.host_path();
      }
      entry["mountPath"] = mount.mount_path();
      if (mount.read_only()) entry["readOnly"] = true;
      out["volumeMounts"].Push(entry);
      pod["volumes"].Push(volume);
    }
    for (const v1::VolumeTemplate& volume : service.spec().volume_templates()) {
      YamlTree entry;
      entry["name"] = volume.name();
      entry["mountPath"] = volume.mount_path();
      out["volumeMounts"].Push(entry);
    }
  }

  // opctl's hard spread rules as required pod anti-affinity on the node (kubernetes.io/hostname).
  static void Affinity(const v1::Service& service, YamlTree& pod) {
    const v1::Placement& placement = service.spec().placement();
    auto keep_apart = [&](const std::vector<std::string>& services) {
      YamlTree term;
      YamlTree expression;
      expression["key"] = kServiceLabel;
      expression["operator"] = "In";
      expression["values"] = YamlTree::ListOf(services);
      term["labelSelector"]["matchExpressions"].Push(expression);
      term["topologyKey"] = "kubernetes.io/hostname";
      pod["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"].Push(term);
    };
    if (placement.max_replicas_per_node() == 1) keep_apart({service.metadata().name()});
    if (placement.apart_from_size() > 0)
      keep_apart(std::vector<std::string>(placement.apart_from().begin(), placement.apart_from().end()));
  }

  // What has no Kubernetes field, said once per Service.
  void Notes(const v1::Service& service) {
    const v1::ServiceSpec& spec = service.spec();
    const v1::ContainerTemplate& container = spec.template_();
    if (spec.network().addresses_size() > 0)
      warn_.Add(Subject(service), "spec.network.addresses",
                "left out: pods get their addresses from the cluster; use NAME-ORDINAL.NAME DNS names");
    if (spec.additional_networks_size() > 0)
      warn_.Add(Subject(service), "spec.additionalNetworks", "left out: a pod has one network");
    std::string restart = RestartPolicyOf(container);
    if (restart != "always" && restart != "unless-stopped")
      warn_.Add(Subject(service), "template.restartPolicy", restart + " left out: StatefulSet pods always restart");
    if (spec.placement().max_replicas_per_node() > 1)
      warn_.Add(Subject(service), "spec.placement.maxReplicasPerNode",
                "only 1 maps (to pod anti-affinity); use topologySpreadConstraints");
    if (!spec.on_node_loss().empty())
      warn_.Add(Subject(service), "spec.onNodeLoss", "left out: the StatefulSet controller decides");
    if (spec.rollout().progress_deadline_seconds() > 0)
      warn_.Add(Subject(service), "spec.rollout.progressDeadlineSeconds", "left out: a StatefulSet has no deadline");
    if (spec.rollout().max_unavailable() > 1)
      warn_.Add(Subject(service), "spec.rollout.maxUnavailable",
                "kept, but the cluster honours it only with the MaxUnavailableStatefulSet feature gate");
    if (container.resources().pids_limit() != 0)
      warn_.Add(Subject(service), "template.resources.pidsLimit", "left out: the kubelet's podPidsLimit applies");
    if (container.has_logs())
      warn_.Add(Subject(service), "template.logs",
                container.logs().driver().empty() || container.logs().driver() == "json-file"
                    ? "left out: the kubelet rotates logs (containerLogMaxSize)"
                    : "left out: a pod has no log driver; a node's logging agent (a DaemonSet) ships its output");
    if (!container.labels().empty())
      warn_.Add(Subject(service), "template.labels", "left out: pods carry the Service's labels");
  }

  const Stack& stack_;
  std::string namespace_;
  Warnings& warn_;
  std::map<std::string, std::string> names_;
  std::set<std::string> claims_;
  std::string text_;
};

}  // namespace

std::string KubernetesObjectsOf(const Stack& stack, const std::vector<Stack>& all, Warnings& warn) {
  return KubernetesWriter(stack, all, warn).Write();
}

}  // namespace opctl::cli::exporting
