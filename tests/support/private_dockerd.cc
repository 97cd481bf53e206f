#include "tests/support/private_dockerd.h"

#include <signal.h>

#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
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
  RunCommand({"ip", "netns", "delete", dockerd->netns_});  // leftovers of an interrupted run: a fresh one
  RunCommand({"mkdir", "-p", dockerd->directory_});
  if (absl::Status launched = dockerd->Launch(); !launched.ok()) return launched;
  // The data root outlives a run killed midway (images are worth keeping): its containers,
  // volumes and networks are not, so a test starts on an empty host.
  if (CommandResult emptied = dockerd->Script({"empty"}); emptied.exit_code != 0) {
    return absl::InternalError("emptying the private dockerd: " + emptied.err);
  }
  return dockerd;
}

absl::Status PrivateDockerd::Launch() {
  // The script makes the namespace and then becomes dockerd itself, so process_ is dockerd.
  auto process =
      Process::Start({"bash", SourcePath("scripts/private-dockerd.sh"), "run", directory_, netns_, bridge_cidr_},
                     directory_ + "/dockerd.log");
  if (!process.ok()) return process.status();
  process_ = *std::move(process);
  if (CommandResult answered = Script({"wait"}); answered.exit_code != 0 || !process_->Running()) {
    return absl::UnavailableError(absl::StrCat("private dockerd ", name_, " did not start:\n", process_->Output()));
  }
  return absl::OkStatus();
}

CommandResult PrivateDockerd::Script(std::vector<std::string> arguments) {
  std::vector<std::string> argv = {"bash", SourcePath("scripts/private-dockerd.sh"), arguments[0], directory_};
  argv.insert(argv.end(), arguments.begin() + 1, arguments.end());
  return RunCommand(argv);
}

absl::Status PrivateDockerd::Restart() {
  process_->Signal(SIGTERM);
  process_->Wait();
  return Launch();
}

absl::Status PrivateDockerd::LoadImage(const std::string& image) {
  CommandResult loaded = Script({"load", image});
  if (loaded.exit_code != 0) return absl::InternalError("loading " + image + ": " + loaded.err);
  return absl::OkStatus();
}

absl::Status PrivateDockerd::LinkToHost(const std::string& host_cidr, const std::string& namespace_cidr) {
  const std::string host_link = ("opctl-h-" + name_).substr(0, 15);  // a link name has at most 15 characters
  RunCommand({"ip", "link", "delete", host_link});                   // an interrupted run's
  for (const std::vector<std::string>& command : std::vector<std::vector<std::string>>{
           {"ip", "link", "add", host_link, "type", "veth", "peer", "name", "uplink", "netns", netns_},
           {"ip", "addr", "add", host_cidr, "dev", host_link},
           {"ip", "link", "set", host_link, "up"},
           {"ip", "-n", netns_, "addr", "add", namespace_cidr, "dev", "uplink"},
           {"ip", "-n", netns_, "link", "set", "uplink", "up"}}) {
    CommandResult ran = RunCommand(command);
    if (ran.exit_code != 0) return absl::InternalError(absl::StrCat(absl::StrJoin(command, " "), ": ", ran.err));
  }
  return absl::OkStatus();
}

CommandResult PrivateDockerd::Docker(const std::vector<std::string>& arguments) {
  std::vector<std::string> argv = {"docker", "-H", "unix://" + socket_};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return RunCommand(argv);
}

PrivateDockerd::~PrivateDockerd() {
  if (process_) {
    Script({"empty"});  // first, so the namespace holds nothing when it goes
    process_->Signal(SIGTERM);
    process_->Wait();
  }
  RunCommand({"ip", "netns", "delete", netns_});  // takes the veth pair of LinkToHost with it
}

}  // namespace opctl::testing
