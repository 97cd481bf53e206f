#include "agent/volume_archiver.h"

#include <unistd.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "agent/container_spec.h"
#include "agent/managed_volumes.h"
#include "common/shell_quote.h"

namespace opctl::agent {
namespace {

constexpr char kVolumePath[] = "/volume";
// Inside the volume during a restore: the archive unpacked, and the old contents moved aside.
constexpr char kRestoreStaging[] = ".opctl-restore-new";
constexpr char kRestoreAside[] = ".opctl-restore-old";

// Removes the helper container when the operation ends, however it ends.
class HelperGuard {
 public:
  HelperGuard(DockerClient& docker, std::string id) : docker_(docker), id_(std::move(id)) {}
  ~HelperGuard() { docker_.RemoveContainer(id_).IgnoreError(); }

 private:
  DockerClient& docker_;
  std::string id_;
};

}  // namespace

VolumeArchiver::VolumeArchiver(DockerClient& docker, VolumeLocks& locks, VolumeArchiverOptions options)
    : docker_(docker), locks_(locks), options_(std::move(options)) {}

absl::Status VolumeArchiver::CheckVolumeExists(const std::string& volume) {
  return CheckManagedVolume(docker_, options_.node_name, volume, options_.adopts && options_.adopts(volume));
}

absl::Status VolumeArchiver::RunPreBackupCommands(const std::string& volume, const CancelCheck& cancelled,
                                                  BackupMode mode) {
  absl::StatusOr<std::vector<DockerContainer>> users = docker_.ListContainersUsingVolume(volume);
  if (!users.ok()) return users.status();
  std::string waiting_for;  // a preparing container that is not running yet
  bool prepared = false;
  absl::Time deadline = absl::Now() + options_.pre_backup_timeout;
  for (const DockerContainer& user : *users) {
    if (user.labels.count(kHelperLabel)) continue;
    auto command = user.labels.find(kBackupPreCommandLabel);
    if (command == user.labels.end() || command->second.empty()) continue;
    if (user.state != "running") {
      waiting_for = user.name;
      continue;
    }
    std::string output;
    bool timed_out = false;
    absl::StatusOr<int> exit_code = docker_.Exec(
        user.id, {"sh", "-c", command->second}, "",
        [&output](int, std::string_view data) {
          if (output.size() < 4096) output.append(data);
          return true;
        },
        [&] { return cancelled() || (timed_out = absl::Now() >= deadline); });
    if (timed_out) {
      return absl::DeadlineExceededError(absl::StrCat("pre-backup command \"", command->second, "\" in container ",
                                                      user.name, " did not finish within ",
                                                      absl::FormatDuration(options_.pre_backup_timeout)));
    }
    if (!exit_code.ok()) return exit_code.status();
    if (*exit_code != 0) {
      return absl::FailedPreconditionError(absl::StrCat("pre-backup command \"", command->second, "\" in container ",
                                                        user.name, " failed (exit ", *exit_code, "): ", output));
    }
    prepared = true;
  }
  if (mode == BackupMode::kScheduled && !prepared && !waiting_for.empty()) {
    return absl::UnavailableError(absl::StrCat("waiting for container ", waiting_for,
                                               ", which prepares the volume for backups (opctl.io/backup-pre-command), "
                                               "to run"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> VolumeArchiver::StartHelper(const std::string& volume, bool read_only,
                                                        const std::string& archive_tar) {
  DockerContainerSpec spec;
  spec.image = options_.helper_image;
  spec.entrypoint = {"sleep"};
  spec.cmd = {"infinity"};  // the agent removes it when done, however long the archive takes
  spec.user = "0:0";
  spec.restart_policy = "no";
  spec.network = "none";
  spec.labels = {{kHelperLabel, read_only ? "backup" : "restore"}, {kNodeLabel, options_.node_name}};
  spec.mounts.push_back({volume, "", kVolumePath, read_only});
  std::string name =
      absl::StrCat("opctl-", read_only ? "backup-" : "restore-", volume, "-", absl::ToUnixMillis(absl::Now()));
  absl::StatusOr<std::string> id = docker_.CreateContainer(name, spec);
  if (absl::IsNotFound(id.status())) {
    return absl::FailedPreconditionError(
        absl::StrCat("the helper image ", options_.helper_image, " is not on node ", options_.node_name,
                     " (scripts/build-images.sh builds it; agent flag --helper-image)"));
  }
  if (!id.ok()) return id.status();
  if (!archive_tar.empty()) {
    if (absl::Status put = docker_.PutArchive(*id, "/", archive_tar); !put.ok()) {
      docker_.RemoveContainer(*id).IgnoreError();
      return put;
    }
  }
  if (absl::Status started = docker_.StartContainer(*id); !started.ok()) {
    docker_.RemoveContainer(*id).IgnoreError();
    return started;
  }
  return id;
}

absl::Status VolumeArchiver::RunInHelper(const std::string& id, const std::vector<std::string>& command,
                                         const std::function<bool(std::string_view)>* sink,
                                         const CancelCheck& cancelled, const std::string& what) {
  std::string errors;
  bool sink_stopped = false;
  absl::StatusOr<int> exit_code = docker_.Exec(
      id, command, "",
      [&](int stream, std::string_view data) {
        if (stream == 2) {
          if (errors.size() < 4096) errors.append(data);
          return true;
        }
        if (sink != nullptr && !(*sink)(data)) return !(sink_stopped = true);
        return true;
      },
      cancelled);
  if (sink_stopped || cancelled()) return absl::CancelledError(absl::StrCat(what, " cancelled"));
  if (!exit_code.ok()) return exit_code.status();
  // GNU tar exits 1 when a file changed while it was read (a live volume); what it read is still whole.
  bool changed_while_read = *exit_code == 1 && errors.find("file changed as we read it") != std::string::npos;
  if (*exit_code != 0 && !changed_while_read) {
    return absl::InternalError(absl::StrCat(what, " failed (exit ", *exit_code, "): ", errors));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> VolumeArchiver::Backup(const std::string& volume,
                                               const std::function<bool(std::string_view)>& sink,
                                               const CancelCheck& cancelled, BackupMode mode) {
  if (absl::Status exists = CheckVolumeExists(volume); !exists.ok()) return exists;
  // A restore replaces the contents meanwhile: neither the old nor the new data would be whole.
  if (locks_.IsHeld(volume)) return absl::UnavailableError(absl::StrCat("a restore of volume ", volume, " is running"));
  // One backup of a volume at a time: repeated calls must not pile up helpers and saves.
  {
    absl::MutexLock lock(&mutex_);
    if (!backing_up_.insert(volume).second) {
      return absl::AbortedError(absl::StrCat("a backup of volume ", volume, " is already running"));
    }
  }
  struct Done {
    VolumeArchiver& archiver;
    const std::string& volume;
    ~Done() {
      absl::MutexLock lock(&archiver.mutex_);
      archiver.backing_up_.erase(volume);
    }
  } done{*this, volume};
  if (absl::Status prepared = RunPreBackupCommands(volume, cancelled, mode); !prepared.ok()) return prepared;
  absl::StatusOr<std::string> helper = StartHelper(volume, /*read_only=*/true, "");
  if (!helper.ok()) return helper.status();
  HelperGuard guard(docker_, *helper);
  int64_t bytes = 0;
  absl::Time last_data = absl::Now();
  std::function<bool(std::string_view)> counting = [&](std::string_view data) {
    bytes += static_cast<int64_t>(data.size());
    last_data = absl::Now();
    return sink(data);
  };
  bool stalled = false;
  absl::Status archived = RunInHelper(
      *helper, {"tar", "-czf", "-", "-C", kVolumePath, "."}, &counting,
      [&] { return cancelled() || (stalled = absl::Now() - last_data >= options_.stall_timeout); }, "tar of " + volume);
  if (stalled) {
    return absl::DeadlineExceededError(absl::StrCat("the archive of ", volume, " stopped growing for ",
                                                    absl::FormatDuration(options_.stall_timeout), "; cancelled"));
  }
  if (!archived.ok()) return archived;
  return bytes;
}

absl::StatusOr<std::vector<std::string>> VolumeArchiver::Restore(const std::string& volume,
                                                                 const std::string& archive_tar, bool force) {
  if (absl::Status exists = CheckVolumeExists(volume); !exists.ok()) return exists;
  if (!locks_.TryHold(volume)) {
    return absl::AbortedError(absl::StrCat("another restore of volume ", volume, " is running"));
  }
  std::vector<std::string> stopped_ids, stopped_names;
  absl::StatusOr<std::vector<std::string>> result = [&]() -> absl::StatusOr<std::vector<std::string>> {
    absl::StatusOr<std::vector<DockerContainer>> users = docker_.ListContainersUsingVolume(volume);
    if (!users.ok()) return users.status();
    std::vector<const DockerContainer*> running;
    for (const DockerContainer& user : *users) {
      // Restarting and paused ones count: dockerd would start them again under the restore.
      bool active = user.state == "running" || user.state == "restarting" || user.state == "paused";
      if (active && !user.labels.count(kHelperLabel)) running.push_back(&user);
    }
    if (!running.empty() && !force) {
      std::vector<std::string> names;
      for (const DockerContainer* user : running) names.push_back(user->name);
      return absl::FailedPreconditionError(absl::StrCat(
          "volume ", volume, " is in use by ", absl::StrJoin(names, ", "),
          ": stop them first (e.g. opctl scale service/NAME --replicas 0) or force the restore, which stops them "
          "and starts them again"));
    }
    for (const DockerContainer* user : running) {
      if (absl::Status stopped = docker_.StopContainer(user->id, 10); !stopped.ok()) return stopped;
      stopped_ids.push_back(user->id);
      stopped_names.push_back(user->name);
    }
    if (absl::Status unpacked = UnpackOver(volume, archive_tar); !unpacked.ok()) return unpacked;
    return stopped_names;
  }();
  // Whatever happened, what was stopped runs again (on the new data, or on the old one kept whole).
  for (const std::string& id : stopped_ids) {
    if (absl::Status started = docker_.StartContainer(id); !started.ok()) {
      options_.logger->Log("agent",
                           absl::StrCat("restore of ", volume, ": cannot start ", id, " again: ", started.ToString()));
    }
  }
  locks_.Release(volume);
  return result;
}

// Unpacked aside first: only a whole archive replaces anything. Then two sets of renames on the
// volume's own filesystem: the old contents out of the way, the new ones in.
absl::Status VolumeArchiver::UnpackOver(const std::string& volume, const std::string& archive_tar) {
  absl::StatusOr<std::string> helper = StartHelper(volume, /*read_only=*/false, archive_tar);
  if (!helper.ok()) return helper.status();
  HelperGuard guard(docker_, *helper);
  std::string archive = ShellQuote(absl::StrCat("/", kRestoreArchiveEntry));
  std::string v = kVolumePath;
  std::string staging = absl::StrCat(v, "/", kRestoreStaging), aside = absl::StrCat(v, "/", kRestoreAside);
  std::string script =
      absl::StrCat("set -e; rm -rf ", staging, " ", aside, "; mkdir ", staging, "; if ! tar -xzpf ", archive, " -C ",
                   staging, "; then rm -rf ", staging, "; exit 1; fi; mkdir ", aside, "; for f in ", v, "/..?* ", v,
                   "/.[!.]* ", v, "/*; do [ -e \"$f\" ] || [ -L \"$f\" ] || continue; [ \"$f\" = ", staging,
                   " ] || [ \"$f\" = ", aside, " ] || mv \"$f\" ", aside, "/; done; for f in ", staging, "/..?* ",
                   staging, "/.[!.]* ", staging, "/*; do [ -e \"$f\" ] || [ -L \"$f\" ] || continue; mv \"$f\" ", v,
                   "/; done; rmdir ", staging, "; rm -rf ", aside);
  absl::Time deadline = absl::Now() + options_.restore_timeout;
  bool timed_out = false;
  absl::Status restored = RunInHelper(
      *helper, {"sh", "-c", script}, nullptr, [&] { return timed_out = absl::Now() >= deadline; },
      "restore of " + volume);
  if (timed_out) {
    restored = absl::DeadlineExceededError(
        absl::StrCat("restore of ", volume, " did not finish within ", absl::FormatDuration(options_.restore_timeout)));
  }
  if (!restored.ok()) {
    return absl::Status(restored.code(),
                        absl::StrCat(restored.message(), "; volume ", volume, " keeps its old contents"));
  }
  return absl::OkStatus();
}

void VolumeArchiver::RemoveRestoreLeftovers(const std::string& volume) {
  absl::StatusOr<std::string> helper = StartHelper(volume, /*read_only=*/false, "");
  if (!helper.ok()) return;
  HelperGuard guard(docker_, *helper);
  absl::Time deadline = absl::Now() + absl::Minutes(5);
  absl::Status removed = RunInHelper(
      *helper, {"rm", "-rf", absl::StrCat(kVolumePath, "/", kRestoreStaging)}, nullptr,
      [&] { return absl::Now() >= deadline; }, "cleaning up the restore of " + volume);
  if (!removed.ok()) options_.logger->Warn("agent", removed.ToString());
}

void VolumeArchiver::RemoveLeftoverHelpers() {
  absl::StatusOr<std::vector<DockerContainer>> helpers = docker_.ListContainers({{kNodeLabel, options_.node_name}});
  if (!helpers.ok()) return;
  for (const DockerContainer& helper : *helpers) {
    if (helper.labels.count(kHelperLabel)) docker_.RemoveContainer(helper.id).IgnoreError();
  }
}

}  // namespace opctl::agent
