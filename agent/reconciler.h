// The heart of the agent: makes this Docker host match what the controller wants, one work key at a
// time ("container/NAME", "network/NAME", "volume/NAME", "gc"). Level-based: each pass reads the
// desired object and the Docker objects carrying opctl's labels, and does what is missing: create,
// start, recreate on a changed spec hash, restart when unhealthy too long, remove what nobody wants.
// Every step is idempotent (409 on create: look again; 404 on remove: done). Docker objects without
// opctl's labels are never touched.
//
// Thread-safe: the work queue never hands one key to two workers; shared bookkeeping is locked.
// The steps for volumes and host paths are in reconciler_mounts.cc.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "agent/desired_state.h"
#include "agent/docker_client.h"
#include "agent/fence.h"
#include "agent/overlay/overlay.h"
#include "agent/status_sink.h"
#include "agent/volume_locks.h"
#include "common/clock.h"
#include "common/event_recorder.h"
#include "common/host_path.h"
#include "common/logger.h"

namespace opctl::agent {

// When a missing image is pulled.
enum class PullPolicy {
  kMissing,           // pull whatever is missing (Docker Hub for references without a registry)
  kExplicitRegistry,  // pull only references that name a registry host (never Docker Hub implicitly)
  kNever,
};

struct ReconcilerOptions {
  std::string node_name;
  Logger* logger = &Logger::Stderr();  // not owned
  PullPolicy pull_policy = PullPolicy::kExplicitRegistry;
  // A container Docker reports unhealthy for this long is restarted (Docker alone never does).
  absl::Duration unhealthy_restart_after = absl::Seconds(30);
  int stop_timeout_seconds = 10;
  // The longest a container's pre-stop command may run before the container is stopped anyway.
  absl::Duration pre_stop_timeout = absl::Seconds(30);
  // Containers mounting a held volume are left alone until it is released (not owned; may be null).
  const VolumeLocks* volume_locks = nullptr;
  // Containers the fence does not let run are removed at once, without their pre-stop command (not
  // owned; may be null).
  const Fence* fence = nullptr;
  // Refuse a Network whose subnet overlaps one of this host's own routes (off in unit tests, whose
  // fake Docker has nothing to do with this host's routes).
  bool check_host_routes = true;
  // Stretches each Network's bridge to the other nodes (not owned; null: this node's containers are
  // reachable from this node only).
  Overlay* overlay = nullptr;
  // This agent's own trees (its backup and run directories), never mounted, beyond common/host_path.h's.
  std::vector<ProtectedTree> protected_trees;
  // The log drivers this node's dockerd offers (its /info); empty: not checked.
  std::vector<std::string> log_drivers;
  // Hears what the reconciler does and sees on its containers (not owned): Created, Started, Killing,
  // Healed, Unhealthy, BackOff, Fenced and each failure's reason.
  EventRecorder* events = &NoEvents::Instance();
};

// What the reconciler healed, by what it found (for metrics).
struct HealCounts {
  std::atomic<uint64_t> removed{0};    // its Docker container gone: made again
  std::atomic<uint64_t> exited{0};     // stopped or killed though declared running: started again
  std::atomic<uint64_t> unhealthy{0};  // unhealthy too long: restarted
};

class Reconciler {
 public:
  Reconciler(DockerClient& docker, const DesiredState& desired, StatusSink& sink, Clock& clock,
             ReconcilerOptions options);

  // One pass over `key`. Returns when to look again (zero: only on the next event), or an error
  // (the caller retries with backoff). An error that says what is wrong with the object (image
  // missing, name taken) is also written into the Container's status.
  absl::StatusOr<absl::Duration> Reconcile(const std::string& key);
  const HealCounts& heals() const { return heals_; }

  // The Volumes whose data this node holds (Docker volumes opctl made here, and adopted ones), as
  // last seen: what heartbeats report. RefreshVolumesHeld reads them from Docker (garbage collection
  // does too).
  std::vector<std::string> VolumesHeld() const;
  absl::Status RefreshVolumesHeld();

 private:
  // One container's pass and its steps (reconciler_container.cc).
  absl::StatusOr<absl::Duration> ReconcileContainer(const std::string& name);
  // Removes the containers of one no longer wanted here, and forgets it.
  absl::Status RemoveUnwanted(const std::string& name, const std::vector<DockerContainer>& actual);
  // An evicted container: removed here, then reported Removed (the controller moves it only then).
  absl::StatusOr<absl::Duration> RemoveEvicted(const v1::Container& container,
                                               const std::vector<DockerContainer>& actual);
  absl::Status EnsureNetworksAndVolumes(const v1::Container& container);
  // The container of `actual` that runs this spec of this object (or null); the others go.
  // `replaced`: one of them was this object's own.
  absl::StatusOr<const DockerContainer*> KeepTheMatchingOne(const v1::Container& container,
                                                            const std::vector<DockerContainer>& actual, bool* replaced);
  // Starts a stopped container its restart policy wants running; `inspected` is updated.
  absl::Status RunAsDeclared(const v1::Container& container, bool adopted, DockerContainer* inspected);
  // Restarts a container unhealthy for unhealthy_restart_after; else when to look again.
  absl::StatusOr<absl::Duration> RestartIfUnhealthyTooLong(const v1::Container& container, DockerContainer* inspected);
  // OK, or NOT_FOUND (already gone): both mean done.
  static bool Ignorable(const absl::Status& status);
  absl::Status EnsureNetwork(const std::string& name);
  // The Network's overlay on this node, once its Docker network is here (overlay.h); OK when the
  // overlay is off. Errors name this node and the Network.
  absl::Status ReconcileOverlay(const std::string& name);
  // The overlay links of the Networks whose Docker network is here; the others go.
  absl::Status CollectOverlayLinks(const std::vector<DockerNetwork>& networks);
  absl::Status EnsureVolume(const std::string& name);
  absl::Status ReconcileVolumeDeletion(const v1::Volume& volume);
  // Removes what the desired state does not want; nothing before the desired state was listed once.
  absl::Status CollectGarbage();
  void NoteVolumeHeld(const std::string& name, bool held);
  // Runs the container's pre-stop command, if it has one and runs; then removes it.
  absl::Status StopAndRemove(const DockerContainer& container);
  // Creates and starts the container; returns its id.
  absl::StatusOr<std::string> CreateAndStart(const v1::Container& container);
  // What Docker is asked to create: the image there and allowed, host paths resolved and checked.
  absl::StatusOr<DockerContainerSpec> CheckedDockerSpec(const v1::Container& container);
  // Creates it; a container of ours already holding the name (a lost race) is replaced, anyone
  // else's is left alone and refused.
  absl::StatusOr<std::string> CreateOrTakeOver(const v1::Container& container, const DockerContainerSpec& spec);
  // The container's host paths resolved on this node (see ResolveHostPaths); the refusal also goes
  // into its status.
  absl::StatusOr<std::vector<std::string>> ResolvedHostPaths(const v1::Container& container);
  // Before `actual` (created with resolved host paths) starts again: OK while the manifest's paths
  // still lead exactly there; otherwise it is removed (to be made again, checked, or refused).
  absl::Status CheckHostPathsBeforeStart(const v1::Container& container, const DockerContainer& actual);
  // The image, pulled first when the pull policy allows.
  // Pulling and Pulled are told as Events of `container`.
  absl::StatusOr<DockerImage> EnsureImage(const v1::Container& container);
  // Reports `status` for the container unless it is what was last reported.
  void Report(const v1::Container& container, v1::ContainerStatus status);
  // The status Docker's view of the container gives.
  v1::ContainerStatus StatusFrom(const v1::Container& container, const DockerContainer& actual);
  void Fail(const v1::Container& container, const std::string& phase, const std::string& reason,
            const absl::Status& error);
  int AddRestart(const v1::Container& container);
  // An Event about `container`.
  void Note(const v1::Container& container, const std::string& type, const std::string& reason,
            const std::string& message, int count = 1);
  // Created (or Healed, when its Docker container vanished) and Started, after CreateAndStart.
  void NoteCreated(const v1::Container& container, bool replaced);
  // BackOff for the restarts Docker made of `actual` (its restart policy) since the last look.
  void NoteDockerRestarts(const v1::Container& container, const DockerContainer& actual);

  DockerClient& docker_;
  const DesiredState& desired_;
  StatusSink& sink_;
  Clock& clock_;
  const ReconcilerOptions options_;

  // Held while ensuring a network: two containers of one network must not both create it (Docker
  // answers the loser with "Pool overlaps", not with a conflict).
  absl::Mutex network_mutex_;
  mutable absl::Mutex mutex_;
  std::set<std::string> volumes_held_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, absl::Time> unhealthy_since_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, int> restarts_ ABSL_GUARDED_BY(mutex_);          // restarts the agent caused, per container
  std::map<std::string, std::string> reported_ ABSL_GUARDED_BY(mutex_);  // last status sent, serialized
  // Docker's restart count of each container when last looked at, with the Docker container's id.
  std::map<std::string, std::pair<std::string, int>> docker_restarts_ ABSL_GUARDED_BY(mutex_);
  HealCounts heals_;
};

}  // namespace opctl::agent
