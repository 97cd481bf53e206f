#include "agent/reconciler.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "agent/container_spec.h"
#include "agent/host_routes.h"
#include "agent/host_safety.h"
#include "common/api_names.h"
#include "common/conditions.h"
#include "common/ipv4.h"
#include "common/object.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::agent {
namespace {

// "registry.example:5000/app:1" names a registry; "opctl/redis:7.0" means Docker Hub implicitly.
bool NamesRegistry(const std::string& image) {
  size_t slash = image.find('/');
  if (slash == std::string::npos) return false;
  std::string host = image.substr(0, slash);
  return host == "localhost" || host.find('.') != std::string::npos || host.find(':') != std::string::npos;
}

// How often a Network's overlay is looked at again with nothing changed.
constexpr absl::Duration kOverlayRecheck = absl::Seconds(5);

int MtuOf(const v1::NetworkSpec& spec) { return spec.mtu() != 0 ? spec.mtu() : kDefaultNetworkMtu; }

bool HasHealthCheck(const v1::Container& container) {
  const v1::ContainerTemplate& t = container.spec().template_();
  return t.has_healthcheck() && !t.healthcheck().test().empty() && t.healthcheck().test(0) != "NONE";
}

}  // namespace

Reconciler::Reconciler(DockerClient& docker, const DesiredState& desired, StatusSink& sink, Clock& clock,
                       ReconcilerOptions options)
    : docker_(docker), desired_(desired), sink_(sink), clock_(clock), options_(std::move(options)) {}

absl::StatusOr<absl::Duration> Reconciler::Reconcile(const std::string& key) {
  if (key == kGcKey) {
    absl::Status collected = CollectGarbage();
    if (!collected.ok()) return collected;
    return absl::ZeroDuration();
  }
  size_t slash = key.find('/');
  std::string kind = key.substr(0, slash), name = key.substr(slash + 1);
  if (kind == "container") return ReconcileContainer(name);
  if (kind == "volume") {
    std::optional<v1::Object> volume = desired_.Find(kKindVolume, name);
    if (volume && !volume->volume().metadata().deletion_timestamp().empty()) {
      absl::Status deleted = ReconcileVolumeDeletion(volume->volume());
      if (!deleted.ok()) return deleted;
    }
    return absl::ZeroDuration();
  }
  if (kind == "network") {
    // Created on demand by the containers that use it; a deleted Network goes with the garbage.
    if (!desired_.Find(kKindNetwork, name)) {
      absl::Status collected = CollectGarbage();
      if (!collected.ok()) return collected;
      return absl::ZeroDuration();
    }
    if (absl::Status overlay = ReconcileOverlay(name); !overlay.ok()) return overlay;
    // Docker may make the bridge again (a dockerd restart) without an event that says so.
    return options_.overlay != nullptr ? kOverlayRecheck : absl::ZeroDuration();
  }
  return absl::ZeroDuration();  // the Node itself: nothing to do on Docker
}

absl::StatusOr<DockerImage> Reconciler::EnsureImage(const v1::Container& container) {
  const std::string& image = container.spec().template_().image();
  absl::StatusOr<DockerImage> present = docker_.InspectImage(image);
  if (!absl::IsNotFound(present.status())) return present;
  if (options_.pull_policy == PullPolicy::kNever) {
    return absl::FailedPreconditionError(
        absl::StrCat("image ", image, " is not on this host (pulling is off: --pull=never)"));
  }
  if (options_.pull_policy == PullPolicy::kExplicitRegistry && !NamesRegistry(image)) {
    return absl::FailedPreconditionError(absl::StrCat("image ", image,
                                                      " is not on this host and names no registry to pull from "
                                                      "(this agent runs with --pull=explicit-registry)"));
  }
  Note(container, kEventNormal, "Pulling", absl::StrCat("pulling image ", image));
  absl::Time started = clock_.Now();
  absl::Status pulled = docker_.PullImage(image);
  if (pulled.ok()) {
    Note(container, kEventNormal, "Pulled",
         absl::StrCat("pulled image ", image, " in ",
                      absl::FormatDuration(absl::Trunc(clock_.Now() - started, absl::Milliseconds(1)))));
    return docker_.InspectImage(image);
  }
  return absl::FailedPreconditionError(
      absl::StrCat("image ", image, " is not on this host and cannot be pulled: ", pulled.message()));
}

absl::Status Reconciler::EnsureNetwork(const std::string& name) {
  absl::MutexLock serialize(&network_mutex_);
  std::optional<v1::Object> object = desired_.Find(kKindNetwork, name);
  if (!object) return absl::FailedPreconditionError(absl::StrCat("network ", name, " is not declared"));
  const v1::NetworkSpec& spec = object->network().spec();
  std::map<std::string, std::string> labels = ManagedLabels(options_.node_name);
  labels[kNameLabel] = name;
  absl::StatusOr<std::vector<DockerNetwork>> existing = docker_.ListNetworks(labels);
  if (!existing.ok()) return existing.status();
  if (!existing->empty()) {
    const DockerNetwork& network = existing->front();
    bool same = (spec.subnet().empty() || network.subnet == spec.subnet()) &&
                (spec.gateway().empty() || network.gateway == spec.gateway()) && network.internal == spec.internal();
    if (same && network.mtu == MtuOf(spec)) return absl::OkStatus();
    absl::StatusOr<DockerNetwork> inspected = docker_.InspectNetwork(network.id);
    if (!inspected.ok()) return inspected.status();
    // Another MTU is fixed once no container uses the network; until then it still serves this host.
    if (same && inspected->containers > 0) return absl::OkStatus();
    if (inspected->containers > 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "network ", name, " has subnet ", network.subnet, " on this host but the manifest wants ", spec.subnet(),
          ", and ", inspected->containers, " container(s) use it; it is recreated once they are gone"));
    }
    if (absl::Status removed = docker_.RemoveNetwork(network.id); !Ignorable(removed)) return removed;
  }
  // A subnet that takes over one of the host's own routes could cut it off its LAN or its controller.
  if (absl::StatusOr<Ipv4Subnet> subnet = ParseIpv4Subnet(spec.subnet()); subnet.ok() && options_.check_host_routes) {
    if (std::optional<std::string> route = OverlappingHostRoute(*subnet)) {
      return absl::FailedPreconditionError(absl::StrCat("network ", name, "'s subnet ", spec.subnet(),
                                                        " overlaps this host's route to ", *route,
                                                        ": it would take that traffic; choose another subnet"));
    }
  }
  DockerNetworkSpec create{.name = name,
                           .subnet = spec.subnet(),
                           .gateway = spec.gateway(),
                           .internal = spec.internal(),
                           .labels = ObjectLabels(options_.node_name, "Network", object->network().metadata()),
                           .mtu = MtuOf(spec)};
  absl::StatusOr<std::string> created = docker_.CreateNetwork(create);
  if (absl::IsAlreadyExists(created.status()) ||
      (!created.ok() && absl::StrContains(created.status().message(), "already exists"))) {
    absl::StatusOr<std::vector<DockerNetwork>> again = docker_.ListNetworks(labels);
    if (again.ok() && !again->empty()) return absl::OkStatus();  // another worker made it
    return absl::FailedPreconditionError(absl::StrCat("a Docker network named ", name,
                                                      " exists and is not managed by opctl; opctl leaves it alone: "
                                                      "remove or rename it"));
  }
  if (!created.ok()) {
    // e.g. "Pool overlaps with other one on this address space": another network here has the subnet.
    return absl::Status(created.status().code(), absl::StrCat("network ", name, " cannot be made on node ",
                                                              options_.node_name, ": ", created.status().message()));
  }
  return absl::OkStatus();
}

absl::Status Reconciler::ReconcileOverlay(const std::string& name) {
  if (options_.overlay == nullptr) return absl::OkStatus();
  std::optional<v1::Object> object = desired_.Find(kKindNetwork, name);
  if (!object || object->network().spec().subnet().empty())
    return absl::OkStatus();  // Docker's addresses: this host only
  std::map<std::string, std::string> labels = ManagedLabels(options_.node_name);
  labels[kNameLabel] = name;
  absl::StatusOr<std::vector<DockerNetwork>> existing = docker_.ListNetworks(labels);
  if (!existing.ok()) return existing.status();
  if (existing->empty()) return absl::OkStatus();  // no container of it here yet
  const DockerNetwork& network = existing->front();
  int mtu = network.mtu != 0 ? network.mtu : 1500;
  absl::Status reconciled = options_.overlay->Reconcile(object->network(), Overlay::BridgeOf(network.id), mtu);
  if (reconciled.ok()) return reconciled;
  return absl::Status(reconciled.code(), absl::StrCat("network ", name, " cannot span hosts from node ",
                                                      options_.node_name, ": ", reconciled.message()));
}

absl::Status Reconciler::CollectOverlayLinks(const std::vector<DockerNetwork>& networks) {
  if (options_.overlay == nullptr) return absl::OkStatus();
  std::set<std::string> keep;
  for (const DockerNetwork& network : networks) {
    auto name = network.labels.find(kNameLabel);
    std::optional<v1::Object> wanted =
        name == network.labels.end() ? std::nullopt : desired_.Find(kKindNetwork, name->second);
    if (wanted && wanted->network().status().vni() != 0) {
      keep.insert(Overlay::LinkName(static_cast<uint32_t>(wanted->network().status().vni())));
    }
  }
  return options_.overlay->CollectLinks(keep);
}

absl::Status Reconciler::CollectGarbage() {
  // Until the desired state has been listed once, everything is unknown rather than unwanted.
  if (!desired_.synced()) return absl::OkStatus();
  if (absl::Status refreshed = RefreshVolumesHeld(); !refreshed.ok()) return refreshed;
  absl::StatusOr<std::vector<DockerContainer>> containers = docker_.ListContainers(ManagedLabels(options_.node_name));
  if (!containers.ok()) return containers.status();
  for (const DockerContainer& container : *containers) {
    auto name = container.labels.find(kNameLabel);
    std::optional<v1::Object> wanted =
        name == container.labels.end() ? std::nullopt : desired_.Find(kKindContainer, name->second);
    if (wanted && wanted->container().spec().node_name() == options_.node_name &&
        !wanted->container().spec().evicting())
      continue;
    if (absl::Status removed = StopAndRemove(container); !Ignorable(removed)) return removed;
  }
  absl::StatusOr<std::vector<DockerNetwork>> networks = docker_.ListNetworks(ManagedLabels(options_.node_name));
  if (!networks.ok()) return networks.status();
  for (const DockerNetwork& network : *networks) {
    auto name = network.labels.find(kNameLabel);
    if (name != network.labels.end() && desired_.Find(kKindNetwork, name->second)) continue;
    absl::StatusOr<DockerNetwork> inspected = docker_.InspectNetwork(network.id);
    if (!inspected.ok() || inspected->containers > 0) continue;
    if (absl::Status removed = docker_.RemoveNetwork(network.id); !Ignorable(removed)) return removed;
  }
  absl::StatusOr<std::vector<DockerNetwork>> left = docker_.ListNetworks(ManagedLabels(options_.node_name));
  if (!left.ok()) return left.status();
  if (absl::Status links = CollectOverlayLinks(*left); !links.ok()) return links;
  return absl::OkStatus();  // volumes are never collected: data goes only when its Volume says so
}

int Reconciler::AddRestart(const v1::Container& container) {
  absl::MutexLock lock(&mutex_);
  return ++restarts_[container.metadata().name()];
}

v1::ContainerStatus Reconciler::StatusFrom(const v1::Container& container, const DockerContainer& actual) {
  v1::ContainerStatus status = container.status();
  status.set_observed_generation(container.metadata().generation());
  if (actual.state == "running" || actual.state == "restarting" || actual.state == "paused")
    status.set_phase(kPhaseRunning);
  else if (actual.state == "created")
    status.set_phase(kPhaseCreating);
  else
    status.set_phase(kPhaseExited);
  status.set_container_id(actual.id);
  auto address = actual.network_addresses.find(container.spec().network().name());
  status.set_ip_address(address != actual.network_addresses.end() ? address->second : "");
  status.set_health(HasHealthCheck(container) ? (actual.health.empty() ? "starting" : actual.health) : "");
  {
    absl::MutexLock lock(&mutex_);
    // The first time a container is seen (an agent restart), what was reported before is the base.
    auto [it, inserted] = restarts_.emplace(container.metadata().name(), 0);
    if (inserted) it->second = std::max(0, container.status().restart_count() - actual.restart_count);
    status.set_restart_count(it->second + actual.restart_count);
  }
  status.set_exit_code(status.phase() == kPhaseExited ? actual.exit_code : 0);
  status.set_started_at(actual.started_at);
  std::string error = actual.oom_killed ? "killed: out of memory (memoryLimit reached)" : actual.error;
  status.set_last_error(error);
  bool ready = status.phase() == kPhaseRunning && (status.health().empty() || status.health() == "healthy");
  std::string reason = ready ? "Running" : status.phase() == kPhaseRunning ? "HealthCheck" : status.phase();
  std::string message = ready                             ? ""
                        : status.phase() == kPhaseRunning ? "health: " + status.health()
                                                          : absl::StrCat("exit code ", actual.exit_code);
  SetCondition(status.mutable_conditions(), kConditionReady, ready, reason, message, clock_.Now());
  return status;
}

void Reconciler::Note(const v1::Container& container, const std::string& type, const std::string& reason,
                      const std::string& message, int count) {
  options_.events->Record({.kind = kKindContainer,
                           .name = container.metadata().name(),
                           .uid = container.metadata().uid(),
                           .stack = container.metadata().stack(),
                           .type = type,
                           .reason = reason,
                           .message = message,
                           .count = count});
}

void Reconciler::NoteDockerRestarts(const v1::Container& container, const DockerContainer& actual) {
  int restarts = 0;
  {
    absl::MutexLock lock(&mutex_);
    auto [it, inserted] = docker_restarts_.try_emplace(container.metadata().name(), actual.id, actual.restart_count);
    // First seen, or a new Docker container (its count starts again): the base, not restarts.
    if (!inserted && it->second.first == actual.id) restarts = actual.restart_count - it->second.second;
    it->second = {actual.id, actual.restart_count};
  }
  if (restarts <= 0) return;
  Note(container, kEventWarning, "BackOff",
       absl::StrCat("Docker restarted the container after it exited (", actual.restart_count,
                    " restarts of this container so far)"),
       restarts);
}

void Reconciler::Fail(const v1::Container& container, const std::string& phase, const std::string& reason,
                      const absl::Status& error) {
  Note(container, kEventWarning, reason, std::string(error.message()));
  v1::ContainerStatus status = container.status();
  status.set_observed_generation(container.metadata().generation());
  status.set_phase(phase);
  status.set_last_error(std::string(error.message()));
  SetCondition(status.mutable_conditions(), kConditionReady, false, reason, std::string(error.message()), clock_.Now());
  Report(container, status);
}

void Reconciler::Report(const v1::Container& container, v1::ContainerStatus status) {
  const std::string& name = container.metadata().name();
  // Timestamps of unchanged conditions must not make an otherwise equal status look new.
  google::protobuf::util::MessageDifferencer same;
  if (same.Compare(status, container.status())) return;
  std::string serialized = status.SerializeAsString();
  {
    absl::MutexLock lock(&mutex_);
    if (reported_[name] == serialized) return;
    reported_[name] = serialized;
  }
  if (!sink_.UpdateContainerStatus(name, status).ok()) {
    absl::MutexLock lock(&mutex_);
    reported_.erase(name);  // not delivered: the next pass tries again
  }
}

}  // namespace opctl::agent
