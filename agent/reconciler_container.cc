// One Container's pass (Reconciler::ReconcileContainer) and its steps: fenced or unwanted, what it
// needs, the one container that matches, created, running as declared, healthy.
#include <algorithm>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "agent/container_spec.h"
#include "agent/host_safety.h"
#include "agent/reconciler.h"
#include "common/api_names.h"
#include "common/conditions.h"

namespace opctl::agent {

bool Reconciler::Ignorable(const absl::Status& status) { return status.ok() || absl::IsNotFound(status); }

absl::StatusOr<absl::Duration> Reconciler::ReconcileContainer(const std::string& name) {
  std::map<std::string, std::string> labels = ManagedLabels(options_.node_name);
  labels[kNameLabel] = name;
  absl::StatusOr<std::vector<DockerContainer>> actual = docker_.ListContainers(labels);
  if (!actual.ok()) return actual.status();

  std::optional<v1::Object> object = desired_.Find(kKindContainer, name);
  std::string fenced;
  if (object && options_.fence != nullptr &&
      !options_.fence->MayRun(object->container(), desired_.revision(), clock_.Now(), &fenced)) {
    for (const DockerContainer& running : *actual) {
      options_.logger->Warn("agent", absl::StrCat("fencing ", name, ": ", fenced));
      if (absl::Status removed = docker_.RemoveContainer(running.id); !Ignorable(removed)) return removed;
      Note(object->container(), kEventWarning, "Fenced", absl::StrCat("removed from this node: ", fenced));
    }
    return absl::ZeroDuration();  // the fence's resync brings it back
  }
  if (!object || object->container().spec().node_name() != options_.node_name) {
    if (absl::Status removed = RemoveUnwanted(name, *actual); !removed.ok()) return removed;
    return absl::ZeroDuration();
  }
  const v1::Container& container = object->container();
  if (container.spec().evicting()) return RemoveEvicted(container, *actual);
  if (options_.volume_locks != nullptr) {
    for (const v1::VolumeMount& mount : container.spec().template_().volume_mounts()) {
      // A restore has the volume: look again once it is done.
      if (!mount.name().empty() && options_.volume_locks->IsHeld(mount.name())) return absl::Milliseconds(500);
    }
  }
  if (absl::Status needed = EnsureNetworksAndVolumes(container); !needed.ok()) return needed;
  bool replaced = false;
  absl::StatusOr<const DockerContainer*> match = KeepTheMatchingOne(container, *actual, &replaced);
  if (!match.ok()) return match.status();
  std::string id;
  if (*match == nullptr) {
    absl::StatusOr<std::string> created = CreateAndStart(container);
    if (!created.ok()) return created.status();
    // A container that ran before (recreated after a removal or a spec change) counts as a restart.
    if (replaced || !container.status().container_id().empty()) AddRestart(container);
    NoteCreated(container, replaced);
    id = *created;
  } else {
    id = (*match)->id;
  }
  absl::StatusOr<DockerContainer> inspected = docker_.InspectContainer(id);
  if (absl::IsNotFound(inspected.status())) return absl::Milliseconds(100);  // removed meanwhile: look again
  if (!inspected.ok()) return inspected.status();
  // Being removed (docker rm -f in flight): its destroy event brings us back to create a new one;
  // starting it now would only wait on Docker's removal.
  if (inspected->state == "removing") return absl::ZeroDuration();
  if (absl::Status running = RunAsDeclared(container, *match != nullptr, &*inspected); !running.ok()) return running;
  absl::StatusOr<absl::Duration> requeue = RestartIfUnhealthyTooLong(container, &*inspected);
  if (!requeue.ok()) return requeue.status();
  NoteDockerRestarts(container, *inspected);
  Report(container, StatusFrom(container, *inspected));
  return *requeue;
}

void Reconciler::NoteCreated(const v1::Container& container, bool replaced) {
  const std::string& phase = container.status().phase();
  // It ran here and nothing replaced it: its Docker container was removed behind opctl's back.
  bool healed = !replaced && !container.status().container_id().empty() &&
                (phase == kPhaseRunning || phase == kPhaseExited || phase == kPhaseCreating);
  if (healed) {
    heals_.removed.fetch_add(1, std::memory_order_relaxed);
    Note(container, kEventWarning, "Healed", "its Docker container was gone (removed by hand?): made it again");
  } else {
    Note(container, kEventNormal, "Created",
         absl::StrCat(replaced ? "replaced the container of the former spec; " : "", "image ",
                      container.spec().template_().image()));
  }
  Note(container, kEventNormal, "Started", "started the container");
}

absl::Status Reconciler::RemoveUnwanted(const std::string& name, const std::vector<DockerContainer>& actual) {
  // Before the first list, absent means unknown, not unwanted: nothing goes.
  if (!desired_.synced()) return absl::OkStatus();
  for (const DockerContainer& stale : actual) {
    if (absl::Status removed = StopAndRemove(stale); !Ignorable(removed)) return removed;
    options_.events->Record({.kind = kKindContainer,
                             .name = name,
                             .reason = "Killing",
                             .message = absl::StrCat("stopped and removed Docker container ", stale.id.substr(0, 12),
                                                     ": not wanted on this node any more")});
  }
  absl::MutexLock lock(&mutex_);
  docker_restarts_.erase(name);
  unhealthy_since_.erase(name);
  restarts_.erase(name);
  reported_.erase(name);
  return absl::OkStatus();
}

absl::StatusOr<absl::Duration> Reconciler::RemoveEvicted(const v1::Container& container,
                                                         const std::vector<DockerContainer>& actual) {
  if (absl::Status removed = RemoveUnwanted(container.metadata().name(), actual); !removed.ok()) return removed;
  // Only this report lets the controller place the container elsewhere.
  v1::ContainerStatus status = container.status();
  status.set_observed_generation(container.metadata().generation());
  status.set_phase(kPhaseRemoved);
  status.clear_container_id();
  status.clear_health();
  SetCondition(status.mutable_conditions(), kConditionReady, false, kReasonEvicted,
               "removed from this node, as evicted", clock_.Now());
  Report(container, status);
  return absl::ZeroDuration();
}

absl::Status Reconciler::EnsureNetworksAndVolumes(const v1::Container& container) {
  std::vector<std::string> networks;
  if (!container.spec().network().name().empty()) networks.push_back(container.spec().network().name());
  for (const v1::ContainerNetwork& extra : container.spec().additional_networks()) networks.push_back(extra.name());
  for (const std::string& network_name : networks) {
    absl::Status network = EnsureNetwork(network_name);
    // The overlay first, so the container's first packets already reach the other nodes.
    if (network.ok()) network = ReconcileOverlay(network_name);
    if (!network.ok()) {
      Fail(container, kPhasePending, kReasonNetworkNotReady, network);
      return network;
    }
  }
  for (const v1::VolumeMount& mount : container.spec().template_().volume_mounts()) {
    if (mount.name().empty()) continue;  // a host path: checked when the container is created
    if (absl::Status volume = EnsureVolume(mount.name()); !volume.ok()) {
      Fail(container, kPhasePending, "VolumeNotReady", volume);
      return volume;
    }
  }
  return absl::OkStatus();
}

// Keep the one container that matches the spec (adoption after an agent restart); anything else with
// this name is from an older spec or a duplicate, and goes.
absl::StatusOr<const DockerContainer*> Reconciler::KeepTheMatchingOne(const v1::Container& container,
                                                                      const std::vector<DockerContainer>& actual,
                                                                      bool* replaced) {
  std::string hash = SpecHash(container.spec());
  const DockerContainer* match = nullptr;
  for (const DockerContainer& candidate : actual) {
    bool own = candidate.labels.count(kUidLabel) && candidate.labels.at(kUidLabel) == container.metadata().uid();
    bool matches = own && candidate.labels.count(kSpecHashLabel) && candidate.labels.at(kSpecHashLabel) == hash;
    if (matches && match == nullptr) {
      match = &candidate;
      continue;
    }
    if (absl::Status removed = StopAndRemove(candidate); !Ignorable(removed)) return removed;
    // Replacing this object's own container is a restart; one left by a deleted namesake is not.
    *replaced |= own;
  }
  return match;
}

// Docker does not restart a container that was killed or stopped by hand; the declared state wins.
absl::Status Reconciler::RunAsDeclared(const v1::Container& container, bool adopted, DockerContainer* inspected) {
  if (inspected->state != "exited" && inspected->state != "dead" && inspected->state != "created") {
    return absl::OkStatus();
  }
  const std::string& declared = container.spec().template_().restart_policy();
  const std::string policy = declared.empty() ? "unless-stopped" : declared;
  if (policy == "no" || (policy == "on-failure" && inspected->exit_code == 0)) return absl::OkStatus();
  if (absl::Status paths = CheckHostPathsBeforeStart(container, *inspected); !paths.ok()) return paths;
  if (absl::Status started = docker_.StartContainer(inspected->id); !started.ok()) {
    Fail(container, kPhaseFailed, "StartFailed", started);
    return started;
  }
  if (adopted) {
    AddRestart(container);
    heals_.exited.fetch_add(1, std::memory_order_relaxed);
    Note(container, kEventWarning, "Healed",
         absl::StrCat("found ", inspected->state, " (exit code ", inspected->exit_code,
                      ") though declared running: started it again"));
  }
  absl::StatusOr<DockerContainer> again = docker_.InspectContainer(inspected->id);
  if (!again.ok()) return again.status();
  *inspected = *std::move(again);
  return absl::OkStatus();
}

// Docker alone never restarts an unhealthy container: after unhealthy_restart_after, the agent does.
absl::StatusOr<absl::Duration> Reconciler::RestartIfUnhealthyTooLong(const v1::Container& container,
                                                                     DockerContainer* inspected) {
  const std::string& name = container.metadata().name();
  if (inspected->state != "running" || inspected->health != "unhealthy") {
    absl::MutexLock lock(&mutex_);
    unhealthy_since_.erase(name);
    return absl::ZeroDuration();
  }
  absl::Time now = clock_.Now(), since;
  bool turned = false;
  {
    absl::MutexLock lock(&mutex_);
    auto [it, inserted] = unhealthy_since_.emplace(name, now);
    since = it->second;
    turned = inserted;
  }
  if (turned) {
    Note(container, kEventWarning, "Unhealthy",
         absl::StrCat("health check failing; restarting it after ",
                      absl::FormatDuration(options_.unhealthy_restart_after), " unless it recovers"));
  }
  if (now - since < options_.unhealthy_restart_after) return options_.unhealthy_restart_after - (now - since);
  if (absl::Status paths = CheckHostPathsBeforeStart(container, *inspected); !paths.ok()) return paths;
  if (absl::Status restarted = docker_.RestartContainer(inspected->id, options_.stop_timeout_seconds);
      !restarted.ok()) {
    return restarted;
  }
  AddRestart(container);
  heals_.unhealthy.fetch_add(1, std::memory_order_relaxed);
  Note(container, kEventWarning, "Killing",
       absl::StrCat("unhealthy for ", absl::FormatDuration(now - since), ": restarted it"));
  {
    absl::MutexLock lock(&mutex_);
    unhealthy_since_.erase(name);
  }
  absl::StatusOr<DockerContainer> again = docker_.InspectContainer(inspected->id);
  if (!again.ok()) return again.status();
  *inspected = *std::move(again);
  return absl::ZeroDuration();
}

absl::Status Reconciler::StopAndRemove(const DockerContainer& container) {
  auto command = container.labels.find(kPreStopCommandLabel);
  if (container.state == "running" && command != container.labels.end() && !command->second.empty()) {
    std::string output;
    absl::Time deadline = clock_.Now() + options_.pre_stop_timeout;
    absl::StatusOr<int> exit_code = docker_.Exec(
        container.id, {"sh", "-c", command->second}, "",
        [&output](int, std::string_view data) {
          if (output.size() < 4096) output.append(data);
          return true;
        },
        [this, deadline] { return clock_.Now() >= deadline; });
    // The hook is a courtesy to the workload: whatever it answers, the container goes.
    std::string result = exit_code.ok() ? absl::StrCat("exit ", *exit_code) : exit_code.status().ToString();
    options_.logger->Log("agent", absl::StrCat("pre-stop of ", container.name, ": ", result, output.empty() ? "" : "\n",
                                               absl::StripTrailingAsciiWhitespace(output)));
  }
  return docker_.RemoveContainer(container.id);
}

absl::StatusOr<std::string> Reconciler::CreateAndStart(const v1::Container& container) {
  absl::StatusOr<DockerContainerSpec> spec = CheckedDockerSpec(container);
  if (!spec.ok()) return spec.status();
  absl::StatusOr<std::string> id = CreateOrTakeOver(container, *spec);
  if (!id.ok()) return id.status();
  // API 1.41 attaches one network at creation; the others are connected before the first start.
  for (const v1::ContainerNetwork& extra : container.spec().additional_networks()) {
    if (absl::Status connected = docker_.ConnectNetwork(extra.name(), *id, extra.ipv4_address()); !connected.ok()) {
      Fail(container, kPhaseFailed, "NetworkConnectFailed", connected);
      // A half-attached container must not start: remove it, and the next pass starts over.
      if (absl::Status removed = docker_.RemoveContainer(*id); !Ignorable(removed)) return removed;
      return connected;
    }
  }
  if (absl::Status started = docker_.StartContainer(*id); !started.ok()) {
    Fail(container, kPhaseFailed, "StartFailed", started);
    return started;
  }
  return *id;
}

absl::StatusOr<DockerContainerSpec> Reconciler::CheckedDockerSpec(const v1::Container& container) {
  absl::StatusOr<DockerImage> image = EnsureImage(container);
  if (!image.ok()) {
    Fail(container, kPhasePending, "ImageNotFound", image.status());
    return image.status();
  }
  if (absl::Status non_root = CheckRunsAsNonRoot(container.spec().template_(), *image); !non_root.ok()) {
    Fail(container, kPhaseFailed, "RunsAsRoot", non_root);
    return non_root;
  }
  absl::StatusOr<std::vector<std::string>> host_paths = ResolvedHostPaths(container);
  if (!host_paths.ok()) return host_paths.status();
  absl::StatusOr<DockerContainerSpec> spec = ToDockerSpec(container, options_.node_name);
  if (!spec.ok()) {
    Fail(container, kPhaseFailed, "InvalidSpec", spec.status());
    return spec.status();
  }
  // Docker lists the drivers it offers in /info, all but "none", which it always has.
  const std::vector<std::string>& offered = options_.log_drivers;
  if (!offered.empty() && spec->log_driver != "none" &&
      std::find(offered.begin(), offered.end(), spec->log_driver) == offered.end()) {
    absl::Status missing = absl::FailedPreconditionError(
        absl::StrCat("log driver ", spec->log_driver,
                     " is not offered by this node's dockerd (it has: ", absl::StrJoin(offered, ", "), ")"));
    Fail(container, kPhaseFailed, "LogDriverUnavailable", missing);
    return missing;
  }
  // Docker gets the paths as resolved here, not as written: a symlink swapped in later changes nothing.
  std::string resolved_list;
  for (size_t i = 0; i < spec->mounts.size() && i < host_paths->size(); ++i) {
    if (spec->mounts[i].host_path.empty()) continue;
    spec->mounts[i].host_path = (*host_paths)[i];
    absl::StrAppend(&resolved_list, (*host_paths)[i], "\n");
  }
  if (!resolved_list.empty()) spec->labels[kHostPathsLabel] = resolved_list;
  return spec;
}

absl::StatusOr<std::string> Reconciler::CreateOrTakeOver(const v1::Container& container,
                                                         const DockerContainerSpec& spec) {
  const std::string& name = container.metadata().name();
  absl::StatusOr<std::string> id = docker_.CreateContainer(name, spec);
  if (absl::IsAlreadyExists(id.status())) {
    absl::StatusOr<DockerContainer> holder = docker_.InspectContainer(name);
    bool ours = holder.ok() && holder->labels.count(kManagedByLabel) && holder->labels.count(kNodeLabel) &&
                holder->labels.at(kNodeLabel) == options_.node_name;
    if (!ours) {
      absl::Status taken = absl::FailedPreconditionError(
          absl::StrCat("a container named ", name,
                       " exists and is not managed by opctl; opctl leaves it alone: rename or remove it"));
      Fail(container, kPhaseFailed, "NameInUse", taken);
      return taken;
    }
    // One of ours appeared between listing and creating (a lost race): remove it and create again.
    if (absl::Status removed = docker_.RemoveContainer(holder->id); !Ignorable(removed)) return removed;
    id = docker_.CreateContainer(name, spec);
  }
  if (!id.ok()) Fail(container, kPhaseFailed, "CreateFailed", id.status());
  return id;
}

}  // namespace opctl::agent
