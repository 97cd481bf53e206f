#include "agent/backup_scheduler.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/container_spec.h"
#include "agent/private_files.h"
#include "common/clock.h"
#include "common/periodic.h"
#include "common/quantity.h"

namespace opctl::agent {
namespace fs = std::filesystem;
namespace {

constexpr int kDefaultKeep = 7;
constexpr absl::Duration kRetryFailedAfter = absl::Minutes(1);
constexpr char kSuffix[] = ".tar.gz";

// The volume's archives, oldest first (names sort by their UTC time).
std::vector<fs::path> Archives(const fs::path& directory, const std::string& volume) {
  std::vector<fs::path> archives;
  std::error_code error;
  for (const fs::directory_entry& entry : fs::directory_iterator(directory, error)) {
    std::string name = entry.path().filename().string();
    if (absl::StartsWith(name, volume + "-") && absl::EndsWith(name, kSuffix)) archives.push_back(entry.path());
  }
  std::sort(archives.begin(), archives.end());
  return archives;
}

absl::Time ModificationTime(const fs::path& path) {
  std::error_code error;
  auto written = fs::last_write_time(path, error);
  if (error) return absl::InfinitePast();
  auto system = std::chrono::file_clock::to_sys(written);
  return absl::FromChrono(std::chrono::time_point_cast<std::chrono::system_clock::duration>(system));
}

}  // namespace

std::string BackupScheduler::AwaitedUser(const std::string& volume, const std::vector<DockerContainer>& running) const {
  for (const v1::Object& object : desired_.All("Container")) {
    const v1::Container& container = object.container();
    if (container.spec().node_name() != options_.node_name || container.spec().evicting()) continue;
    const auto& mounts = container.spec().template_().volume_mounts();
    if (std::none_of(mounts.begin(), mounts.end(), [&](const v1::VolumeMount& m) { return m.name() == volume; }))
      continue;
    const std::string& name = container.metadata().name();
    bool runs = std::any_of(running.begin(), running.end(), [&](const DockerContainer& c) {
      auto label = c.labels.find(kNameLabel);
      return c.state == "running" && label != c.labels.end() && label->second == name;
    });
    if (!runs) return name;
  }
  return "";
}

BackupScheduler::BackupScheduler(DockerClient& docker, const DesiredState& desired, VolumeArchiver& archiver,
                                 StatusWriter write, BackupSchedulerOptions options)
    : docker_(docker), desired_(desired), archiver_(archiver), write_(std::move(write)), options_(std::move(options)) {}

BackupScheduler::~BackupScheduler() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void BackupScheduler::Start() {
  thread_ = std::thread(
      [this] { RunPeriodically(mutex_, &stopping_, options_.check_interval, [this] { RunDue(absl::Now()); }); });
}

void BackupScheduler::RunDue(absl::Time now) {
  std::vector<v1::Object> volumes = desired_.All("Volume");
  if (std::none_of(volumes.begin(), volumes.end(),
                   [](const v1::Object& object) { return !object.volume().spec().backup().schedule().empty(); })) {
    return;
  }
  absl::StatusOr<std::vector<DockerVolume>> present = docker_.ListVolumes({});
  if (!present.ok()) return;
  // Listed once a volume is due, not on every tick.
  std::optional<absl::StatusOr<std::vector<DockerContainer>>> containers;
  for (const v1::Object& object : volumes) {
    const v1::Volume& volume = object.volume();
    const std::string& name = volume.metadata().name();
    absl::StatusOr<absl::Duration> every = ParseDuration(volume.spec().backup().schedule());
    if (!every.ok() || *every <= absl::ZeroDuration() || !volume.metadata().deletion_timestamp().empty()) continue;
    bool here = std::any_of(present->begin(), present->end(), [&](const DockerVolume& v) { return v.name == name; });
    if (!here) continue;  // another node's, or not created yet
    // A failed run is tried again within a minute, not a whole interval later; the newest archive on
    // disk counts as the last good run (an agent restart does not reset the schedule).
    absl::Time last = absl::InfinitePast();
    absl::Duration wait = *every;
    if (auto attempt = last_attempt_.find(name); attempt != last_attempt_.end()) {
      last = attempt->second;
      if (failed_.count(name)) wait = std::min(*every, kRetryFailedAfter);
    }
    std::vector<fs::path> archives = Archives(fs::path(options_.backup_dir) / name, name);
    if (!archives.empty() && ModificationTime(archives.back()) > last) {
      last = ModificationTime(archives.back());
      wait = *every;
    }
    if (now - last < wait) continue;
    bool deferred = false;
    v1::VolumeBackupRun run;
    if (!containers) containers = docker_.ListContainers(ManagedLabels(options_.node_name));
    if (!containers->ok()) return;
    if (std::string awaited = AwaitedUser(name, **containers); !awaited.empty()) {
      // The volume exists before the containers that fill it: archiving it now keeps an empty directory.
      deferred = true;
      run.set_node_name(options_.node_name);
      run.set_started_at(FormatTimestamp(now));
      run.set_error(absl::StrCat("waiting for container ", awaited, ", which mounts the volume, to run"));
    } else {
      run = RunOne(volume, now, deferred);
    }
    if (deferred) {
      // Its workload has not started yet: try again soon, and say so once a whole interval went by.
      auto [since, first] = deferred_since_.emplace(name, now);
      if (first) options_.logger->Log("agent", absl::StrCat("backup of ", name, " waits: ", run.error()));
      if (now - since->second < *every) continue;
    }
    deferred_since_.erase(name);
    last_attempt_[name] = now;
    Finished(volume, run);
  }
}

void BackupScheduler::Finished(const v1::Volume& volume, const v1::VolumeBackupRun& run) {
  const std::string& name = volume.metadata().name();
  if (run.error().empty())
    failed_.erase(name);
  else
    failed_.insert(name);
  runs_.Record(run.error().empty() ? absl::OkStatus() : absl::UnknownError(run.error()),
               absl::Milliseconds(run.duration_milliseconds()));
  if (run.error().empty()) bytes_archived_.fetch_add(static_cast<uint64_t>(run.bytes()), std::memory_order_relaxed);
  options_.events->Record({.kind = kKindVolume,
                           .name = name,
                           .uid = volume.metadata().uid(),
                           .stack = volume.metadata().stack(),
                           .type = run.error().empty() ? kEventNormal : kEventWarning,
                           .reason = run.error().empty() ? "BackupSucceeded" : "BackupFailed",
                           .message = run.error().empty() ? absl::StrCat(run.file(), ": ", run.bytes(), " bytes in ",
                                                                         run.duration_milliseconds(), " ms")
                                                          : run.error()});
  v1::VolumeStatus status = volume.status();
  *status.mutable_last_backup() = run;
  if (run.error().empty()) *status.mutable_last_successful_backup() = run;
  status.set_backups(static_cast<int>(Archives(fs::path(options_.backup_dir) / name, name).size()));
  if (absl::Status written = write_(name, status); !written.ok()) {
    options_.logger->Warn("agent", absl::StrCat("backup of ", name, ": cannot report: ", written.ToString()));
  }
}

v1::VolumeBackupRun BackupScheduler::RunOne(const v1::Volume& volume, absl::Time now, bool& deferred) {
  const std::string& name = volume.metadata().name();
  v1::VolumeBackupRun run;
  run.set_node_name(options_.node_name);
  run.set_started_at(FormatTimestamp(now));
  fs::path directory = fs::path(options_.backup_dir) / name;
  std::error_code error;
  fs::create_directories(directory, error);
  std::string stamp = absl::FormatTime("%Y%m%dT%H%M%E3SZ", now, absl::UTCTimeZone());
  fs::path file = directory / absl::StrCat(name, "-", stamp, kSuffix);
  fs::path partial = file.string() + ".partial";
  absl::Time started = absl::Now();
  absl::Status result = [&]() -> absl::Status {
    if (error) return absl::InternalError(absl::StrCat("cannot create ", directory.string(), ": ", error.message()));
    FILE* out = CreatePrivateFile(partial.string());  // the volume's data: mode 0600
    if (out == nullptr) return absl::InternalError(absl::StrCat("cannot create ", partial.string()));
    bool write_failed = false;
    absl::StatusOr<int64_t> bytes = archiver_.Backup(
        name,
        [&](std::string_view data) {
          write_failed = std::fwrite(data.data(), 1, data.size(), out) != data.size();
          return !write_failed;
        },
        [this] {
          absl::MutexLock lock(&mutex_);
          return stopping_;
        },
        BackupMode::kScheduled);
    bool closed = std::fflush(out) == 0 && fsync(fileno(out)) == 0;
    std::fclose(out);
    if (write_failed || !closed) return absl::InternalError(absl::StrCat("cannot write ", partial.string()));
    if (!bytes.ok()) return bytes.status();
    fs::rename(partial, file, error);
    if (error) return absl::InternalError(absl::StrCat("cannot rename ", partial.string(), ": ", error.message()));
    // The rename itself must survive a crash, or the archive may vanish with it.
    if (absl::Status synced = SyncDirectory(directory.string()); !synced.ok()) return synced;
    run.set_file(file.string());
    run.set_bytes(*bytes);
    return absl::OkStatus();
  }();
  run.set_duration_milliseconds(absl::ToInt64Milliseconds(absl::Now() - started));
  if (!result.ok()) {
    fs::remove(partial, error);
    deferred = absl::IsUnavailable(result);
    run.set_error(std::string(result.message()));
    return run;
  }
  int keep = volume.spec().backup().keep() > 0 ? volume.spec().backup().keep() : kDefaultKeep;
  std::vector<fs::path> archives = Archives(directory, name);
  for (size_t i = 0; i + keep < archives.size(); ++i) fs::remove(archives[i], error);
  return run;
}

}  // namespace opctl::agent
