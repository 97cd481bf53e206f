#include "tests/agent/fake_docker_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace opctl::agent::testing {
namespace {

bool HasLabels(const std::map<std::string, std::string>& have, const std::map<std::string, std::string>& want) {
  for (const auto& [key, value] : want) {
    auto found = have.find(key);
    if (found == have.end() || found->second != value) return false;
  }
  return true;
}

}  // namespace

std::string FakeDockerClient::NextId() { return absl::StrCat("id", next_id_++); }

std::string FakeDockerClient::AddUnmanagedContainer(const std::string& name) {
  std::string id = NextId();
  DockerContainer container;
  container.id = id;
  container.name = name;
  container.state = "running";
  containers[id] = container;
  return id;
}

const DockerContainer* FakeDockerClient::ByName(const std::string& name) const {
  for (const auto& [id, container] : containers) {
    if (container.name == name) return &container;
  }
  return nullptr;
}

int FakeDockerClient::Count(const std::string& call_prefix) const {
  int count = 0;
  for (const std::string& call : calls) count += absl::StartsWith(call, call_prefix) ? 1 : 0;
  return count;
}

absl::StatusOr<DockerHostInfo> FakeDockerClient::Info() { return DockerHostInfo{"fake", "1.41", 8LL << 30, 2}; }

absl::StatusOr<std::vector<DockerContainer>> FakeDockerClient::ListContainers(
    const std::map<std::string, std::string>& labels) {
  std::vector<DockerContainer> result;
  for (const auto& [id, container] : containers) {
    if (HasLabels(container.labels, labels)) result.push_back(container);
  }
  return result;
}

absl::StatusOr<DockerContainer> FakeDockerClient::InspectContainer(const std::string& id_or_name) {
  if (containers.count(id_or_name)) return containers[id_or_name];
  if (const DockerContainer* found = ByName(id_or_name)) return *found;
  return absl::NotFoundError("No such container: " + id_or_name);
}

absl::StatusOr<std::string> FakeDockerClient::CreateContainer(const std::string& name,
                                                              const DockerContainerSpec& spec) {
  calls.push_back("create " + name);
  if (ByName(name)) return absl::AlreadyExistsError("Conflict. The container name \"/" + name + "\" is already in use");
  if (!images.count(spec.image)) return absl::NotFoundError("No such image: " + spec.image);
  std::string id = NextId();
  DockerContainer container;
  container.id = id;
  container.name = name;
  container.labels = spec.labels;
  container.state = "created";
  if (!spec.network.empty()) container.network_addresses[spec.network] = spec.ipv4_address;
  containers[id] = container;
  specs[id] = spec;
  return id;
}

absl::Status FakeDockerClient::StartContainer(const std::string& id) {
  calls.push_back("start " + id);
  if (!containers.count(id)) return absl::NotFoundError("No such container: " + id);
  containers[id].state = "running";
  containers[id].health = specs[id].healthcheck ? "starting" : "";
  return absl::OkStatus();
}

absl::Status FakeDockerClient::RestartContainer(const std::string& id, int) {
  calls.push_back("restart " + id);
  if (!containers.count(id)) return absl::NotFoundError("No such container: " + id);
  containers[id].state = "running";
  containers[id].health = "starting";
  return absl::OkStatus();
}

absl::Status FakeDockerClient::RemoveContainer(const std::string& id) {
  calls.push_back("remove " + id);
  if (!containers.erase(id)) return absl::NotFoundError("No such container: " + id);
  return absl::OkStatus();
}

absl::Status FakeDockerClient::StopContainer(const std::string& id, int timeout_seconds) {
  calls.push_back("stop " + id);
  auto found = containers.find(id);
  if (found == containers.end()) return absl::NotFoundError("No such container: " + id);
  found->second.state = "exited";
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DockerContainer>> FakeDockerClient::ListContainersUsingVolume(const std::string& volume) {
  std::vector<DockerContainer> result;
  for (const auto& [id, container] : containers) {
    auto spec = specs.find(id);
    if (spec == specs.end()) continue;
    for (const DockerMount& mount : spec->second.mounts) {
      if (mount.volume == volume) {
        result.push_back(container);
        break;
      }
    }
  }
  return result;
}

absl::Status FakeDockerClient::StreamLogs(const std::string& id, const DockerLogOptions& options,
                                          const OutputSink& sink, const CancelCheck& cancelled) {
  return absl::UnimplementedError("the fake Docker client has no logs");
}

absl::StatusOr<int> FakeDockerClient::Exec(const std::string& id, const std::vector<std::string>& command,
                                           const std::string& user, const OutputSink& sink,
                                           const CancelCheck& cancelled) {
  return absl::UnimplementedError("the fake Docker client runs no processes");
}

absl::StatusOr<std::unique_ptr<DockerExecSession>> FakeDockerClient::AttachExec(const std::string& id,
                                                                                const DockerExecOptions& options) {
  return absl::UnimplementedError("the fake Docker client runs no processes");
}

absl::Status FakeDockerClient::PutArchive(const std::string& id, const std::string& path, const std::string& tar_file) {
  return absl::UnimplementedError("the fake Docker client has no file systems");
}

absl::StatusOr<std::vector<DockerNetwork>> FakeDockerClient::ListNetworks(
    const std::map<std::string, std::string>& labels) {
  std::vector<DockerNetwork> result;
  for (const auto& [id, network] : networks) {
    if (HasLabels(network.labels, labels)) result.push_back(network);
  }
  return result;
}

absl::StatusOr<DockerNetwork> FakeDockerClient::InspectNetwork(const std::string& id_or_name) {
  for (auto& [id, network] : networks) {
    if (id == id_or_name || network.name == id_or_name) {
      DockerNetwork inspected = network;
      for (const auto& [container_id, container] : containers)
        inspected.containers += container.network_addresses.count(network.name);
      return inspected;
    }
  }
  return absl::NotFoundError("network " + id_or_name + " not found");
}

absl::StatusOr<std::string> FakeDockerClient::CreateNetwork(const DockerNetworkSpec& spec) {
  calls.push_back("create-network " + spec.name);
  for (const auto& [id, network] : networks) {
    if (network.name == spec.name)
      return absl::AlreadyExistsError("network with name " + spec.name + " already exists");
  }
  std::string id = NextId();
  networks[id] = DockerNetwork{id, spec.name, spec.labels, spec.subnet, spec.gateway, spec.internal, 0, spec.mtu};
  return id;
}

absl::Status FakeDockerClient::RemoveNetwork(const std::string& id) {
  calls.push_back("remove-network " + id);
  if (!networks.erase(id)) return absl::NotFoundError("network not found");
  return absl::OkStatus();
}

absl::Status FakeDockerClient::ConnectNetwork(const std::string& network, const std::string& container_id,
                                              const std::string& ipv4_address) {
  calls.push_back("connect " + network + " " + container_id);
  if (!containers.count(container_id)) return absl::NotFoundError("No such container: " + container_id);
  containers[container_id].network_addresses[network] = ipv4_address;
  return absl::OkStatus();
}

absl::StatusOr<std::vector<DockerVolume>> FakeDockerClient::ListVolumes(
    const std::map<std::string, std::string>& labels) {
  std::vector<DockerVolume> result;
  for (const auto& [name, volume] : volumes) {
    if (HasLabels(volume.labels, labels)) result.push_back(volume);
  }
  return result;
}

absl::Status FakeDockerClient::CreateVolume(const std::string& name, const std::map<std::string, std::string>& labels) {
  calls.push_back("create-volume " + name);
  volumes.emplace(name, DockerVolume{name, labels});
  return absl::OkStatus();
}

absl::Status FakeDockerClient::RemoveVolume(const std::string& name) {
  calls.push_back("remove-volume " + name);
  if (!volumes.erase(name)) return absl::NotFoundError("no such volume");
  return absl::OkStatus();
}

absl::StatusOr<DockerImage> FakeDockerClient::InspectImage(const std::string& reference) {
  if (!images.count(reference)) return absl::NotFoundError("No such image: " + reference);
  auto user = image_users.find(reference);
  return DockerImage{"sha256:" + reference, user == image_users.end() ? "65534" : user->second};
}

absl::Status FakeDockerClient::PullImage(const std::string& reference) {
  calls.push_back("pull " + reference);
  if (!pullable.count(reference)) {
    return absl::NotFoundError("pull access denied for " + reference + ", repository does not exist");
  }
  images.insert(reference);
  return absl::OkStatus();
}

absl::Status FakeDockerClient::StreamEvents(const std::map<std::string, std::string>&,
                                            const std::function<bool(const DockerEvent&)>&, const std::atomic<bool>&) {
  return absl::UnavailableError("the fake has no event stream");
}

}  // namespace opctl::agent::testing
