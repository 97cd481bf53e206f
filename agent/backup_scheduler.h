// Scheduled volume backups (Volume.spec.backup): every `schedule` the agent archives each such volume
// that exists on its host into --backup-dir/VOLUME/VOLUME-<UTC time>.tar.gz, keeps the newest `keep`
// archives (default 7), and writes each run's result into the Volume's status. The time of the
// newest archive on disk counts as the last run, so an agent restart does not reset the schedule. A
// run waits while a container of this node that mounts the volume, or the one that prepares it (its
// pre-backup command), does not run yet: the first archive of a new Redis holds its first save, not an
// empty directory. After a whole interval of waiting the run is reported as failed, with the reason. Archives are 0600,
// their directory synced after each rename; every step of a run has a limit (VolumeArchiverOptions),
// so a hung command or dockerd cannot hold up the schedule for long. A failed run is tried again after
// a minute (or the schedule's interval, when shorter).
//
// Thread-safe; one background thread.
#pragma once

#include <functional>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/desired_state.h"
#include "agent/docker_client.h"
#include "agent/volume_archiver.h"
#include "common/event_recorder.h"
#include "common/latency_histogram.h"
#include "common/logger.h"

namespace opctl::agent {

struct BackupSchedulerOptions {
  std::string node_name;
  std::string backup_dir = "/var/lib/opctl/backups";
  absl::Duration check_interval = absl::Seconds(1);
  Logger* logger = &Logger::Stderr();             // not owned
  EventRecorder* events = &NoEvents::Instance();  // hears BackupSucceeded and BackupFailed (not owned)
};

class BackupScheduler {
 public:
  using StatusWriter = std::function<absl::Status(const std::string& volume, const v1::VolumeStatus& status)>;

  BackupScheduler(DockerClient& docker, const DesiredState& desired, VolumeArchiver& archiver, StatusWriter write,
                  BackupSchedulerOptions options);
  ~BackupScheduler();  // stops

  void Start();
  // Backs up every volume that is due at `now` (the background thread calls this).
  void RunDue(absl::Time now);

  // Runs by result (a deferred one is none), their duration, and the bytes archived (for metrics).
  const OutcomeStats& runs() const { return runs_; }
  uint64_t bytes_archived() const { return bytes_archived_.load(std::memory_order_relaxed); }

 private:
  // Archives one volume and prunes old archives; returns the run. `deferred` when the volume's
  // workload has not started (BackupMode::kScheduled): nothing worth keeping yet.
  v1::VolumeBackupRun RunOne(const v1::Volume& volume, absl::Time now, bool& deferred);
  // A run that counts (not deferred): remembered for retries, counted, told as an Event and written
  // into the Volume's status.
  void Finished(const v1::Volume& volume, const v1::VolumeBackupRun& run);
  // A Container bound to this node that mounts `volume` and is not among the `running` ones; "" if none.
  std::string AwaitedUser(const std::string& volume, const std::vector<DockerContainer>& running) const;

  DockerClient& docker_;
  const DesiredState& desired_;
  VolumeArchiver& archiver_;
  StatusWriter write_;
  const BackupSchedulerOptions options_;
  OutcomeStats runs_;
  std::atomic<uint64_t> bytes_archived_{0};
  std::map<std::string, absl::Time> last_attempt_;  // only the background thread touches these
  std::map<std::string, absl::Time> deferred_since_;
  std::set<std::string> failed_;  // whose last run failed: tried again sooner
  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace opctl::agent
