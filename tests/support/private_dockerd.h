// A dockerd of its own for tests that must restart or cut off a Docker host without disturbing the
// machine's: it runs in a fresh network namespace with its own data root, exec root, socket and
// bridge range, as scripts/private-dockerd.sh starts, empties and loads it.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "tests/support/process.h"

namespace opctl::testing {

class PrivateDockerd {
 public:
  // `name` names the namespace (opctl-NAME) and directories; `bridge_cidr` is its docker0 range.
  static absl::StatusOr<std::unique_ptr<PrivateDockerd>> Start(const std::string& name, const std::string& bridge_cidr);
  ~PrivateDockerd();  // stops dockerd, removes the namespace

  const std::string& socket() const { return socket_; }
  const std::string& netns() const { return netns_; }
  // Stops dockerd (SIGTERM, waits) and starts it again on the same state.
  absl::Status Restart();
  // Copies an image from the machine's dockerd (docker save | docker load).
  absl::Status LoadImage(const std::string& image);
  // Joins the namespace to this machine's by a veth pair, `host_cidr` on this side (the address a
  // process here listens on for the namespace's containers, as docker0's gateway serves a real
  // host's) and `namespace_cidr` on the other: the containers reach this side through dockerd's NAT.
  absl::Status LinkToHost(const std::string& host_cidr, const std::string& namespace_cidr);
  // Runs the docker CLI against this daemon.
  CommandResult Docker(const std::vector<std::string>& arguments);

 private:
  absl::Status Launch();
  // scripts/private-dockerd.sh COMMAND DIR ARGS... for this daemon.
  CommandResult Script(std::vector<std::string> command_and_arguments);
  std::string name_, netns_, directory_, socket_, bridge_cidr_;
  std::unique_ptr<Process> process_;
};

}  // namespace opctl::testing
