#include "controller/service_controller.h"

#include <algorithm>
#include <cstdio>
#include <future>
#include <map>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/conditions.h"
#include "common/object.h"
#include "controller/node_monitor.h"
#include "controller/scheduler.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::controller {
namespace {

using google::protobuf::util::MessageDifferencer;

constexpr char kScheduleKey[] = "schedule";
constexpr char kServiceKeyPrefix[] = "service/";
constexpr char kNodeKeyPrefix[] = "node/";
constexpr absl::Duration kRetryDelay = absl::Seconds(1);

// Runs an asynchronous Registry call and waits for it (the worker thread may block; gRPC threads never do).
template <typename T, typename Call>
absl::StatusOr<T> Wait(Call call) {
  std::promise<absl::StatusOr<T>> promise;
  auto future = promise.get_future();
  call([&promise](absl::StatusOr<T> result) { promise.set_value(std::move(result)); });
  return future.get();
}

// Puts every object at once and waits for all: the store groups concurrent writes into one disk sync,
// where one write after another would pay a sync each. Returns what was written, or the first error.
absl::StatusOr<std::vector<v1::Object>> PutAll(Registry& registry, const std::vector<v1::Object>& objects) {
  std::vector<std::promise<absl::StatusOr<v1::Object>>> promises(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    registry.Put(objects[i], [&promises, i](absl::StatusOr<v1::Object> result) { promises[i].set_value(result); });
  }
  std::vector<v1::Object> written;
  absl::Status first_error;
  for (auto& promise : promises) {
    absl::StatusOr<v1::Object> result = promise.get_future().get();
    if (result.ok())
      written.push_back(*std::move(result));
    else
      first_error.Update(result.status());
  }
  if (!first_error.ok()) return first_error;
  return written;
}

// A Service's Containers: they are named "<service>-<ordinal>", so a name range of the store holds
// them (and those of a service named "<service>-x", which the filter drops).
std::vector<v1::Object> ContainersOf(const Registry& registry, const std::string& service) {
  std::vector<v1::Object> owned;
  for (v1::Object& container : registry.ListNamePrefix("Container", service + "-")) {
    if (container.container().spec().service() == service) owned.push_back(std::move(container));
  }
  return owned;
}

}  // namespace

std::string TemplateVolumeName(const std::string& template_name, const std::string& service, int ordinal) {
  return absl::StrCat(template_name, "-", service, "-", ordinal);
}

std::vector<v1::Container> DesiredContainers(const v1::Service& service,
                                             const std::vector<std::string>& host_path_roots) {
  std::vector<v1::Container> containers;
  const v1::ServiceSpec& spec = service.spec();
  for (int ordinal = 0; ordinal < spec.replicas(); ++ordinal) {
    v1::Container container;
    container.set_api_version(std::string(kApiVersion));
    container.set_kind("Container");
    v1::ObjectMeta* meta = container.mutable_metadata();
    meta->set_name(absl::StrCat(service.metadata().name(), "-", ordinal));
    meta->set_stack(service.metadata().stack());
    *meta->mutable_labels() = service.metadata().labels();
    (*meta->mutable_labels())[kServiceLabel] = service.metadata().name();
    v1::OwnerReference* owner = meta->add_owner_references();
    owner->set_kind("Service");
    owner->set_name(service.metadata().name());
    owner->set_uid(service.metadata().uid());
    owner->set_controller(true);
    v1::ContainerSpec* container_spec = container.mutable_spec();
    container_spec->set_service(service.metadata().name());
    container_spec->set_ordinal(ordinal);
    *container_spec->mutable_node_selector() = spec.node_selector();
    container_spec->set_on_node_loss(spec.on_node_loss());
    *container_spec->mutable_template_() = spec.template_();
    const auto& mounts = spec.template_().volume_mounts();
    if (std::any_of(mounts.begin(), mounts.end(), [](const v1::VolumeMount& m) { return !m.host_path().empty(); })) {
      *container_spec->mutable_host_path_roots() = {host_path_roots.begin(), host_path_roots.end()};
    }
    if (!spec.network().name().empty()) {
      container_spec->mutable_network()->set_name(spec.network().name());
      if (ordinal < spec.network().addresses_size()) {
        container_spec->mutable_network()->set_ipv4_address(spec.network().addresses(ordinal));
      }
    }
    for (const v1::ServiceNetwork& extra : spec.additional_networks()) {
      v1::ContainerNetwork* attached = container_spec->add_additional_networks();
      attached->set_name(extra.name());
      if (ordinal < extra.addresses_size()) attached->set_ipv4_address(extra.addresses(ordinal));
    }
    for (const v1::VolumeTemplate& volume : spec.volume_templates()) {
      v1::VolumeMount* mount = container_spec->mutable_template_()->add_volume_mounts();
      mount->set_name(TemplateVolumeName(volume.name(), service.metadata().name(), ordinal));
      mount->set_mount_path(volume.mount_path());
    }
    containers.push_back(std::move(container));
  }
  return containers;
}

ServiceController::ServiceController(Registry& registry, WatchHub& hub, ServiceControllerOptions options)
    : registry_(registry), hub_(hub), options_(options) {}

ServiceController::~ServiceController() {
  if (subscription_ != 0) hub_.Unsubscribe(subscription_);
  queue_.ShutDown();
  if (worker_.joinable()) worker_.join();
}

absl::Status ServiceController::Follow() {
  // The placement index starts from a list and follows the changes after the list's revision.
  absl::StatusOr<v1::ListResponse> containers = registry_.List("Container", "", "");
  if (!containers.ok()) return containers.status();
  placement_.Reset({containers->items().begin(), containers->items().end()}, containers->revision());
  absl::StatusOr<uint64_t> id =
      hub_.Subscribe(containers->revision(), [this](const std::vector<ChangePtr>& changes, int64_t) {
        OnChanges(changes);
        return true;
      });
  if (!id.ok()) return id.status();
  subscription_ = *id;
  return absl::OkStatus();
}

absl::Status ServiceController::Start() {
  if (absl::Status following = Follow(); !following.ok()) return following;
  for (const v1::Object& service : registry_.ListKind("Service")) {
    queue_.Add(absl::StrCat(kServiceKeyPrefix, service.service().metadata().name()));
  }
  queue_.Add(kScheduleKey);
  // Nodes lost while the controller was down.
  for (const v1::Object& node : registry_.ListKind("Node")) {
    if (!NodeIsReady(node.node())) queue_.Add(absl::StrCat(kNodeKeyPrefix, node.node().metadata().name()));
  }
  worker_ = std::thread([this] { Work(); });
  return absl::OkStatus();
}

void ServiceController::OnChanges(const std::vector<ChangePtr>& changes) {
  for (const ChangePtr& change : changes) {
    placement_.Observe(*change);
    std::string kind = KindOf(change->object);
    if (kind == "Service") queue_.Add(absl::StrCat(kServiceKeyPrefix, change->object.service().metadata().name()));
    if (kind == "Container") {
      queue_.Add(absl::StrCat(kServiceKeyPrefix, change->object.container().spec().service()));
      if (change->object.container().spec().node_name().empty()) queue_.Add(kScheduleKey);
    }
    // A node that changes readiness or labels may make room for pending containers.
    if (kind == "Node") {
      const v1::Node& node = change->object.node();
      const v1::Node* before = change->previous ? &change->previous->node() : nullptr;
      // Readiness, a cordon, labels or capacity decide placement; a heartbeat timestamp does not.
      bool placement_changed = before == nullptr || NodeIsReady(node) != NodeIsReady(*before) ||
                               !MessageDifferencer::Equals(node.spec(), before->spec()) ||
                               !MessageDifferencer::Equals(node.metadata(), before->metadata()) ||
                               !MessageDifferencer::Equals(node.status().capacity(), before->status().capacity());
      if (change->created || placement_changed) queue_.Add(kScheduleKey);
      // Lost, or lost for another reason (its fence guard reported in after it went silent).
      if (!NodeIsReady(node) &&
          (before == nullptr || NodeIsReady(*before) || ReadyReason(node) != ReadyReason(*before))) {
        queue_.Add(absl::StrCat(kNodeKeyPrefix, node.metadata().name()));
      }
    }
  }
}

void ServiceController::Work() {
  while (std::optional<std::string> key = queue_.Get()) {
    // The placement index follows the store through the hub's dispatch thread: each pass starts once
    // it has seen every write so far (this controller's own bindings among them), so no pass places
    // by loads an earlier pass already changed.
    hub_.WaitDispatched(registry_.store().Revision());
    absl::Status status;
    if (*key == kScheduleKey)
      status = ScheduleContainers();
    else if (absl::StartsWith(*key, kNodeKeyPrefix))
      status = EvacuateNode(key->substr(std::string(kNodeKeyPrefix).size()));
    else
      status = SyncService(key->substr(std::string(kServiceKeyPrefix).size()));
    if (!status.ok()) {
      // Conflicts are normal (someone wrote first); anything else is worth a line. Either way: retry soon.
      if (!absl::IsAborted(status))
        std::fprintf(stderr, "controller: %s: %s\n", key->c_str(), status.ToString().c_str());
      queue_.AddAfter(*key, kRetryDelay);
    }
    queue_.Done(*key);
  }
}

absl::Status ServiceController::SyncService(const std::string& name) {
  absl::StatusOr<v1::Object> found = registry_.Get("Service", name);
  std::vector<v1::Object> owned = ContainersOf(registry_, name);
  if (absl::IsNotFound(found.status())) {
    // Deleting a Service cascades in one transaction; this only catches leftovers.
    if (owned.empty()) return absl::OkStatus();
    return Wait<int64_t>([&](auto done) { registry_.DeleteObjects(owned, done); }).status();
  }
  if (!found.ok()) return found.status();
  const v1::Service& service = found->service();

  std::map<std::string, v1::Object> existing;
  for (v1::Object& container : owned) existing[container.container().metadata().name()] = std::move(container);

  // Per-replica volumes first, so a container never starts without its data volume.
  for (int ordinal = 0; ordinal < service.spec().replicas(); ++ordinal) {
    for (const v1::VolumeTemplate& volume : service.spec().volume_templates()) {
      std::string volume_name = TemplateVolumeName(volume.name(), name, ordinal);
      if (registry_.Find("Volume", volume_name)) continue;
      v1::Object object;
      v1::ObjectMeta* meta = object.mutable_volume()->mutable_metadata();
      meta->set_name(volume_name);
      meta->set_stack(service.metadata().stack());
      (*meta->mutable_labels())[kServiceLabel] = name;
      absl::StatusOr<v1::Object> created = Wait<v1::Object>([&](auto done) { registry_.Put(object, done); });
      if (!created.ok() && !absl::IsAborted(created.status())) return created.status();
    }
  }

  std::vector<v1::Object> desired_objects;
  for (v1::Container& desired : DesiredContainers(service, options_.host_path_roots)) {
    v1::Object object;
    *object.mutable_container() = std::move(desired);
    desired_objects.push_back(std::move(object));
  }
  // New replicas and metadata changes are written at once; spec changes roll (see below).
  std::vector<v1::Object*> outdated;
  std::vector<v1::Object> immediate;
  for (v1::Object& desired : desired_objects) {
    v1::Container* want = desired.mutable_container();
    auto it = existing.find(want->metadata().name());
    if (it == existing.end()) {
      want->mutable_status()->set_phase("Pending");
    } else {
      const v1::Container& have = it->second.container();
      // The binding belongs to the scheduler: keep it while comparing and writing.
      want->mutable_spec()->set_node_name(have.spec().node_name());
      want->mutable_spec()->set_binding_generation(have.spec().binding_generation());
      bool same_spec = MessageDifferencer::Equals(want->spec(), have.spec());
      bool same_meta =
          MessageDifferencer::Equals(want->metadata().owner_references(0), have.metadata().owner_references(0)) &&
          std::map<std::string, std::string>(want->metadata().labels().begin(), want->metadata().labels().end()) ==
              std::map<std::string, std::string>(have.metadata().labels().begin(), have.metadata().labels().end());
      if (same_spec && same_meta) continue;
      v1::ObjectMeta* meta = want->mutable_metadata();
      meta->set_uid(have.metadata().uid());
      meta->set_creation_timestamp(have.metadata().creation_timestamp());
      meta->set_resource_version(have.metadata().resource_version());
      *want->mutable_status() = have.status();
      if (!same_spec) {
        outdated.push_back(&desired);
        continue;
      }
    }
    immediate.push_back(desired);
  }
  if (absl::Status written = PutAll(registry_, immediate).status(); !written.ok()) return written;
  // A changed template rolls one replica at a time, highest ordinal first (as a StatefulSet does), each
  // once the previous one is ready again. An outdated replica that is not ready anyway goes first, so a
  // broken template can always be fixed by applying a good one.
  if (!outdated.empty()) {
    bool rolling = false;
    for (const auto& entry : existing) {
      // (A named copy: clang 14 cannot capture a structured binding.)
      const std::string& container_name = entry.first;
      bool is_outdated = std::any_of(outdated.begin(), outdated.end(), [&](const v1::Object* candidate) {
        return candidate->container().metadata().name() == container_name;
      });
      if (!is_outdated && !ContainerIsReady(entry.second.container())) rolling = true;
    }
    v1::Object* next = nullptr;
    for (v1::Object* candidate : outdated) {
      if (!ContainerIsReady(existing[candidate->container().metadata().name()].container())) next = candidate;
    }
    if (next == nullptr && !rolling) next = outdated.back();
    if (next != nullptr) {
      absl::StatusOr<v1::Object> written = Wait<v1::Object>([&](auto done) { registry_.Put(*next, done); });
      if (!written.ok()) return written.status();
    }
  }

  // Scale-down and leftovers: the highest ordinals go; their template volumes stay.
  std::vector<v1::Object> surplus;
  std::map<std::string, bool> wanted;
  for (const v1::Object& desired : desired_objects) wanted[desired.container().metadata().name()] = true;
  for (auto& [container_name, object] : existing) {
    if (!wanted.count(container_name)) surplus.push_back(object);
  }
  if (!surplus.empty()) {
    absl::Status deleted = Wait<int64_t>([&](auto done) { registry_.DeleteObjects(surplus, done); }).status();
    if (!deleted.ok()) return deleted;
  }

  // Status from the containers as they are now.
  int ready = 0, present = 0;
  for (const v1::Object& object : ContainersOf(registry_, name)) {
    ++present;
    ready += ContainerIsReady(object.container()) ? 1 : 0;
  }
  v1::Object updated = *found;
  v1::ServiceStatus* status = updated.mutable_service()->mutable_status();
  const v1::ServiceStatus previous = service.status();
  status->set_observed_generation(service.metadata().generation());
  status->set_replicas(present);
  status->set_ready_replicas(ready);
  absl::Time now = Clock::Real().Now();
  int want = service.spec().replicas();
  std::string summary = absl::StrCat(ready, "/", want, " replicas ready");
  bool updating = ready < want || present != want;
  SetCondition(status->mutable_conditions(), "Available", ready >= want,
               ready >= want ? "ReplicasReady" : "ReplicasNotReady", summary, now);
  SetCondition(status->mutable_conditions(), "Progressing", updating, updating ? "ReplicasUpdating" : "Complete",
               summary, now);
  if (MessageDifferencer::Equals(*status, previous)) return absl::OkStatus();
  return Wait<v1::Object>(
             [&](auto done) { registry_.UpdateStatus(updated, service.metadata().resource_version(), done); })
      .status();
}

absl::Status ServiceController::ScheduleContainers() {
  std::vector<v1::Node> nodes;
  for (v1::Object& node : registry_.ListKind("Node")) nodes.push_back(std::move(*node.mutable_node()));
  NodeLoads loads = placement_.Loads();
  std::vector<v1::Container> unbound;
  for (const std::string& name : placement_.Unbound()) {
    absl::StatusOr<v1::Object> object = registry_.Get("Container", name);
    if (object.ok() && object->container().spec().node_name().empty())
      unbound.push_back(std::move(*object->mutable_container()));
  }
  absl::Status result = absl::OkStatus();
  absl::Time now = Clock::Real().Now();
  // Choices are made one by one (each sees the ones before, for spreading); the bindings are written
  // together.
  std::vector<v1::Object> bindings;
  for (v1::Container& container : unbound) {
    absl::StatusOr<std::string> node = ChooseNode(container, nodes, loads);
    v1::Object object;
    if (node.ok()) {
      container.mutable_spec()->set_node_name(*node);
      container.mutable_spec()->set_binding_generation(container.spec().binding_generation() + 1);
      SetCondition(container.mutable_status()->mutable_conditions(), "Scheduled", true, "Bound",
                   absl::StrCat("bound to node ", *node), now);
      *object.mutable_container() = container;
      CountOnNode(container, 1, loads);
      bindings.push_back(std::move(object));
      continue;
    }
    // Record why, once: rewriting the same reason on every pass would only wake every watcher.
    std::string message = std::string(node.status().message());
    const v1::Condition* scheduled = FindCondition(container.status().conditions(), "Scheduled");
    if (container.status().phase() == "Pending" && scheduled != nullptr && scheduled->message() == message) continue;
    v1::ContainerStatus* updated = container.mutable_status();
    updated->set_phase("Pending");
    SetCondition(updated->mutable_conditions(), "Scheduled", false, "Unschedulable", message, now);
    *object.mutable_container() = container;
    result.Update(Wait<v1::Object>([&](auto done) {
                    registry_.UpdateStatus(object, container.metadata().resource_version(), done);
                  }).status());
  }
  result.Update(PutAll(registry_, bindings).status());
  return result;
}

absl::Status ServiceController::EvacuateNode(const std::string& node_name) {
  absl::StatusOr<v1::Object> node = registry_.Get("Node", node_name);
  if (!node.ok()) return absl::IsNotFound(node.status()) ? absl::OkStatus() : node.status();
  if (NodeIsReady(node->node())) return absl::OkStatus();  // back already
  const v1::Condition* ready = FindCondition(node->node().status().conditions(), "Ready");
  const std::string why =
      absl::StrCat("node ", node_name, " is not ready", ready ? absl::StrCat(" (", ready->message(), ")") : "");
  absl::Time now = Clock::Real().Now();
  // A silent node may still run its containers until its own fence removes them: wait for that.
  absl::Duration settle_left;
  if (ready != nullptr && ready->reason() == kNodeSilentReason) {
    settle_left = ParseTimestamp(ready->last_transition_time()) + options_.silent_node_settle - now;
  }
  if (settle_left > absl::ZeroDuration()) queue_.AddAfter(absl::StrCat(kNodeKeyPrefix, node_name), settle_left);
  std::vector<v1::Object> unbound;
  absl::Status result;
  for (const std::string& name : placement_.BoundTo(node_name)) {
    absl::StatusOr<v1::Object> object = registry_.Get("Container", name);
    if (!object.ok() || object->container().spec().node_name() != node_name) continue;
    v1::Container& container = *object->mutable_container();
    v1::ContainerStatus* status = container.mutable_status();
    if (MovesOnNodeLoss(container)) {
      if (settle_left > absl::ZeroDuration()) continue;
      // The binding generation stays: the scheduler's next binding counts up from it.
      container.mutable_spec()->set_node_name("");
      status->set_phase("Pending");
      SetCondition(status->mutable_conditions(), "Scheduled", false, "NodeLost", why + "; moving it", now);
      unbound.push_back(*std::move(object));
      continue;
    }
    if (status->phase() == "Unknown") continue;
    status->set_phase("Unknown");
    SetCondition(status->mutable_conditions(), "Scheduled", true, "NodeLost",
                 why + "; it stays bound there, where its volumes are (spec.onNodeLoss: Reschedule would move it)",
                 now);
    result.Update(Wait<v1::Object>([&](auto done) {
                    registry_.UpdateStatus(*object, container.metadata().resource_version(), done);
                  }).status());
  }
  result.Update(PutAll(registry_, unbound).status());
  return result;
}

}  // namespace opctl::controller
