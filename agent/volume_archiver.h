// Volume backup and restore on this Docker host, done by a short-lived helper container (a local
// image with sh and tar, run as root with no network) that mounts the volume:
//
//  - Backup: when a running container that mounts the volume carries the label
//    opctl.io/backup-pre-command (image labels count), that shell command runs there first and must
//    succeed (the Redis images use it to finish a save, so the files on disk are a consistent
//    snapshot). Then the helper mounts the volume read-only and runs `tar -czf - -C /volume .`,
//    whose output is streamed out.
//  - Restore: the archive is unpacked, owners and modes as archived, into a new directory inside the
//    volume; only when that succeeded whole are the old contents moved aside and the new ones moved
//    in (renames), so a broken archive, a full disk or a timeout leaves the old data as it was.
//    Refused while a container uses the volume unless forced: then those containers are stopped, the
//    volume is held so the reconciler leaves them stopped, and they are started again afterwards.
//
// Only volumes opctl made for this node, or that a Volume adopts (agent/managed_volumes.h), are
// touched. Every step has a limit: the pre-backup command, an archive that stops growing, a restore.
//
// Thread-safe (one operation per volume at a time).
#pragma once

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "agent/docker_client.h"
#include "agent/volume_locks.h"
#include "common/logger.h"

namespace opctl::agent {

inline constexpr char kHelperLabel[] = "opctl.io/helper";
inline constexpr char kBackupPreCommandLabel[] = "opctl.io/backup-pre-command";
// The name of the one entry of the tar file Restore takes.
inline constexpr char kRestoreArchiveEntry[] = "restore.tar.gz";

struct VolumeArchiverOptions {
  std::string node_name;
  Logger* logger = &Logger::Stderr();  // not owned
  std::string helper_image = "opctl/toolbox:0.1";
  std::string scratch_dir = "/tmp";  // restore archives wait here until the helper takes them
  // Whether the Volume of that name adopts a Docker volume opctl did not make (spec.adoptExisting).
  std::function<bool(const std::string& volume)> adopts;
  absl::Duration pre_backup_timeout = absl::Minutes(10);
  // A backup whose archive has not grown for this long is cancelled (dockerd or tar hung).
  absl::Duration stall_timeout = absl::Minutes(10);
  absl::Duration restore_timeout = absl::Hours(1);
  int64_t max_restore_bytes = int64_t{64} << 30;
};

// On demand, a volume's data is archived as it is when nobody prepares it. A scheduled run waits
// until a container that declares a pre-backup command for the volume runs (UNAVAILABLE until then):
// a volume whose workload has not started yet holds nothing worth keeping.
enum class BackupMode { kOnDemand, kScheduled };

class VolumeArchiver {
 public:
  VolumeArchiver(DockerClient& docker, VolumeLocks& locks, VolumeArchiverOptions options);

  // Streams a .tar.gz of the volume into `sink` (false from it cancels); returns its size in bytes.
  absl::StatusOr<int64_t> Backup(const std::string& volume, const std::function<bool(std::string_view)>& sink,
                                 const CancelCheck& cancelled, BackupMode mode = BackupMode::kOnDemand);
  // Replaces the volume's contents with the .tar.gz at `archive_tar`, a tar file holding it as its one
  // entry "restore.tar.gz" (see TarFileWriter). Returns the containers stopped and started again. On
  // any error the volume keeps its old contents, and the message says so.
  absl::StatusOr<std::vector<std::string>> Restore(const std::string& volume, const std::string& archive_tar,
                                                   bool force);
  // Removes helper containers left behind by an agent that died mid-operation.
  void RemoveLeftoverHelpers();

  const VolumeArchiverOptions& options() const { return options_; }

 private:
  absl::Status CheckVolumeExists(const std::string& volume);
  absl::Status RunPreBackupCommands(const std::string& volume, const CancelCheck& cancelled, BackupMode mode);
  // Creates and starts a helper mounting `volume` at /volume; returns its id.
  absl::StatusOr<std::string> StartHelper(const std::string& volume, bool read_only, const std::string& archive_tar);
  // Removes a restore's half-unpacked archive from the volume (after a timeout cut it off).
  // Replaces the volume's contents with the archive's, or keeps them whole when it cannot.
  absl::Status UnpackOver(const std::string& volume, const std::string& archive_tar);
  void RemoveRestoreLeftovers(const std::string& volume);
  // Runs `command` in the helper; stdout to `sink` (when given), stderr kept for the error message.
  absl::Status RunInHelper(const std::string& id, const std::vector<std::string>& command,
                           const std::function<bool(std::string_view)>* sink, const CancelCheck& cancelled,
                           const std::string& what);

  DockerClient& docker_;
  VolumeLocks& locks_;
  const VolumeArchiverOptions options_;
  absl::Mutex mutex_;
  std::set<std::string> backing_up_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace opctl::agent
