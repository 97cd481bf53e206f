#include "tests/support/private_dockerd.h"

#include <signal.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "tests/support/wait.h"

namespace opctl::testing {

absl::StatusOr<std::unique_ptr<PrivateDockerd>> PrivateDockerd::Start(const std::string& name,
                                                                      const std::string& bridge_cidr) {
  auto dockerd = std::unique_ptr<PrivateDockerd>(new PrivateDockerd());
  dockerd->name_ = name;
  dockerd->netns_ = "opctl-" + name;
  dockerd->bridge_cidr_ = bridge_cidr;
  // Short paths: containerd's sockets live under the exec root and unix socket paths are limited.
  dockerd->directory_ = absl::StrCat("/tmp/opctl-dd-", name);
  dockerd->socket_ = dockerd->directory_ + "/docker.sock";
  RunCommand({"ip", "netns", "delete", dockerd->netns_});  // leftovers of an interrupted run
  RunCommand({"rm", "-rf", dockerd->directory_ + "/exec"});
  CommandResult added = RunCommand({"ip", "netns", "add", dockerd->netns_});
  if (added.exit_code != 0) return absl::InternalError("ip netns add failed: " + added.err);
  RunCommand({"ip", "-n", dockerd->netns_, "link", "set", "lo", "up"});
  RunCommand({"mkdir", "-p", dockerd->directory_});
  if (absl::Status launched = dockerd->Launch(); !launched.ok()) return launched;
  // The data root outlives a run killed midway (images are worth keeping): its containers,
  // volumes and networks are not, so a test starts on an empty host.
  dockerd->RemoveContainers();
  dockerd->Docker({"volume", "prune", "-f"});
  dockerd->Docker({"network", "prune", "-f"});
  return dockerd;
}

absl::Status PrivateDockerd::Launch() {
  auto process =
      Process::Start({"nsenter", "--net=/var/run/netns/" + netns_, "dockerd", "--data-root=" + directory_ + "/data",
                      "--exec-root=" + directory_ + "/exec", "-H", "unix://" + socket_,
                      "--pidfile=" + directory_ + "/docker.pid", "--bip=" + bridge_cidr_},
                     directory_ + "/dockerd.log");
  if (!process.ok()) return process.status();
  process_ = *std::move(process);
  bool answering = WaitFor(
      [&] {
        return RunCommand({"curl", "-fsS", "--max-time", "1", "--unix-socket", socket_, "http://localhost/_ping"})
                       .exit_code == 0 ||
               !process_->Running();
      },
      absl::Seconds(60), absl::Milliseconds(100));
  if (!answering || !process_->Running()) {
    return absl::UnavailableError(absl::StrCat("private dockerd ", name_, " did not start:\n", process_->Output()));
  }
  return absl::OkStatus();
}

absl::Status PrivateDockerd::Restart() {
  process_->Signal(SIGTERM);
  process_->Wait();
  return Launch();
}

absl::Status PrivateDockerd::LoadImage(const std::string& image) {
  std::string archive = directory_ + "/image.tar";
  CommandResult saved = RunCommand({"docker", "save", "-o", archive, image});
  if (saved.exit_code != 0) return absl::InternalError("docker save: " + saved.err);
  CommandResult loaded = Docker({"load", "-i", archive});
  if (loaded.exit_code != 0) return absl::InternalError("docker load: " + loaded.err);
  return absl::OkStatus();
}

CommandResult PrivateDockerd::Docker(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {"docker", "-H", "unix://" + socket_};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return RunCommand(argv);
}

void PrivateDockerd::RemoveContainers() {
  CommandResult ids = Docker({"ps", "-aq"});
  std::vector<std::string> remove = {"rm", "-f"};
  for (size_t start = 0, end; start < ids.out.size(); start = end + 1) {
    end = ids.out.find('\n', start);
    if (end == std::string::npos) end = ids.out.size();
    if (end > start) remove.push_back(ids.out.substr(start, end - start));
  }
  if (remove.size() > 2) Docker(remove);
}

PrivateDockerd::~PrivateDockerd() {
  if (process_) {
    RemoveContainers();  // first, so the namespace holds nothing when it goes
    process_->Signal(SIGTERM);
    process_->Wait();
  }
  RunCommand({"ip", "netns", "delete", netns_});
}

}  // namespace opctl::testing
