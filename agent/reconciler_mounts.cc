// The Reconciler's mounts: a Volume's Docker volume made (or adopted) when a container needs it, its
// data removed when the Volume is deleted with it, the record of what this node holds that heartbeats
// report, and host paths resolved and checked before a container is made and before every start.
// (reconciler.cc holds the containers and networks.)
#include <algorithm>
#include <cstdio>
#include <set>

#include "absl/strings/str_cat.h"
#include "agent/container_spec.h"
#include "agent/host_safety.h"
#include "agent/managed_volumes.h"
#include "agent/reconciler.h"
#include "common/api_names.h"
#include "common/object.h"

namespace opctl::agent {

absl::Status Reconciler::EnsureVolume(const std::string& name) {
  std::optional<v1::Object> object = desired_.Find(kKindVolume, name);
  if (object && !object->volume().metadata().deletion_timestamp().empty()) {
    return absl::FailedPreconditionError(absl::StrCat("volume ", name, " is being deleted with its data"));
  }
  bool adopt = object && object->volume().spec().adopt_existing();
  absl::Status found = CheckManagedVolume(docker_, options_.node_name, name, adopt);
  if (found.ok()) {
    NoteVolumeHeld(name, true);
    return found;
  }
  if (!absl::IsNotFound(found)) return found;
  v1::ObjectMeta meta;
  meta.set_name(name);
  if (object) meta = object->volume().metadata();
  absl::Status created = docker_.CreateVolume(name, ObjectLabels(options_.node_name, "Volume", meta));
  if (created.ok()) NoteVolumeHeld(name, true);
  return created;
}

absl::Status Reconciler::ReconcileVolumeDeletion(const v1::Volume& volume) {
  const std::string& name = volume.metadata().name();
  std::string mine = DeleteDataFinalizer(options_.node_name);
  const auto& finalizers = volume.metadata().finalizers();
  if (std::find(finalizers.begin(), finalizers.end(), mine) == finalizers.end()) return absl::OkStatus();
  absl::Status found = CheckManagedVolume(docker_, options_.node_name, name, volume.spec().adopt_existing());
  if (found.ok()) {
    // 409 while a container still uses it: retried until the containers are gone.
    if (absl::Status removed = docker_.RemoveVolume(name); !removed.ok() && !absl::IsNotFound(removed)) {
      return removed;
    }
  } else if (!absl::IsNotFound(found)) {
    return found;  // another application's volume of that name: never removed
  }
  NoteVolumeHeld(name, false);
  return sink_.ReleaseFinalizer("Volume", name, mine);
}

void Reconciler::NoteVolumeHeld(const std::string& name, bool held) {
  absl::MutexLock lock(&mutex_);
  if (held)
    volumes_held_.insert(name);
  else
    volumes_held_.erase(name);
}

absl::Status Reconciler::RefreshVolumesHeld() {
  absl::StatusOr<std::vector<DockerVolume>> ours = docker_.ListVolumes(ManagedLabels(options_.node_name));
  if (!ours.ok()) return ours.status();
  std::set<std::string> held;
  for (const DockerVolume& volume : *ours) held.insert(volume.name);
  std::vector<v1::Object> adopting;
  for (v1::Object& object : desired_.All("Volume")) {
    if (object.volume().spec().adopt_existing()) adopting.push_back(std::move(object));
  }
  if (!adopting.empty()) {
    absl::StatusOr<std::vector<DockerVolume>> all = docker_.ListVolumes({});
    if (!all.ok()) return all.status();
    std::set<std::string> present;
    for (const DockerVolume& volume : *all) present.insert(volume.name);
    for (const v1::Object& object : adopting) {
      if (present.count(object.volume().metadata().name())) held.insert(object.volume().metadata().name());
    }
  }
  absl::MutexLock lock(&mutex_);
  volumes_held_ = std::move(held);
  return absl::OkStatus();
}

std::vector<std::string> Reconciler::VolumesHeld() const {
  absl::MutexLock lock(&mutex_);
  return {volumes_held_.begin(), volumes_held_.end()};
}

absl::StatusOr<std::vector<std::string>> Reconciler::ResolvedHostPaths(const v1::Container& container) {
  std::vector<std::string> roots(container.spec().host_path_roots().begin(), container.spec().host_path_roots().end());
  absl::StatusOr<std::vector<std::string>> resolved =
      ResolveHostPaths(container.spec().template_(), roots, options_.protected_trees);
  if (!resolved.ok()) Fail(container, "Failed", "HostPathRefused", resolved.status());
  return resolved;
}

absl::Status Reconciler::CheckHostPathsBeforeStart(const v1::Container& container, const DockerContainer& actual) {
  auto label = actual.labels.find(kHostPathsLabel);
  if (label == actual.labels.end()) return absl::OkStatus();  // no host paths
  absl::StatusOr<std::vector<std::string>> resolved = ResolvedHostPaths(container);
  std::string now;
  if (resolved.ok()) {
    for (const std::string& path : *resolved) {
      if (!path.empty()) absl::StrAppend(&now, path, "\n");
    }
  }
  if (resolved.ok() && now == label->second) return absl::OkStatus();
  // The path leads elsewhere now (a symlink swapped in), or nowhere allowed: this container never
  // starts again; a new one is made, checked from scratch, or refused.
  options_.logger->Log("agent", absl::StrCat(container.metadata().name(),
                                             ": its host paths no longer resolve as when it was created; removing it"));
  if (absl::Status removed = docker_.RemoveContainer(actual.id); !removed.ok() && !absl::IsNotFound(removed)) {
    return removed;
  }
  return resolved.ok()
             ? absl::AbortedError(absl::StrCat(container.metadata().name(), ": host paths changed; recreating it"))
             : resolved.status();
}

}  // namespace opctl::agent
