#include "agent/docker_json.h"

#include <limits>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/ipv4.h"

namespace opctl::agent {
namespace {

using Json = nlohmann::json;

// The member `key` of `object`, or null when `object` is no object or lacks it: never throws.
const Json& Member(const Json& object, const char* key) {
  static const Json kNull;
  if (!object.is_object()) return kNull;
  auto found = object.find(key);
  return found == object.end() ? kNull : *found;
}

std::string String(const Json& object, const char* key) {
  const Json& value = Member(object, key);
  return value.is_string() ? value.get<std::string>() : "";
}

int64_t Integer(const Json& object, const char* key) {
  const Json& value = Member(object, key);
  if (value.is_number_unsigned()) {
    uint64_t number = value.get<uint64_t>();
    return number > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) ? 0 : static_cast<int64_t>(number);
  }
  return value.is_number_integer() ? value.get<int64_t>() : 0;
}

int SmallInteger(const Json& object, const char* key) {
  int64_t value = Integer(object, key);
  return value < std::numeric_limits<int>::min() || value > std::numeric_limits<int>::max() ? 0
                                                                                            : static_cast<int>(value);
}

bool Boolean(const Json& object, const char* key) {
  const Json& value = Member(object, key);
  return value.is_boolean() && value.get<bool>();
}

std::map<std::string, std::string> StringMap(const Json& value) {
  std::map<std::string, std::string> result;
  if (!value.is_object()) return result;
  for (const auto& [key, item] : value.items()) {
    if (item.is_string()) result[key] = item.get<std::string>();
  }
  return result;
}

std::map<std::string, std::string> Addresses(const Json& networks) {
  std::map<std::string, std::string> addresses;
  if (!networks.is_object()) return addresses;
  for (const auto& [name, endpoint] : networks.items()) addresses[name] = String(endpoint, "IPAddress");
  return addresses;
}

// Parses a body, turning malformed JSON into an error instead of an exception.
absl::StatusOr<Json> Parse(const std::string& body, const std::string& what) {
  Json parsed = Json::parse(body, nullptr, false);
  if (parsed.is_discarded()) return absl::InternalError(absl::StrCat("dockerd sent malformed JSON for ", what));
  return parsed;
}

absl::StatusOr<Json> ParseArray(const std::string& body, const std::string& what) {
  absl::StatusOr<Json> parsed = Parse(body, what);
  if (parsed.ok() && !parsed->is_array()) return absl::InternalError(absl::StrCat("dockerd sent no list for ", what));
  return parsed;
}

absl::StatusOr<Json> ParseObject(const std::string& body, const std::string& what) {
  absl::StatusOr<Json> parsed = Parse(body, what);
  if (parsed.ok() && !parsed->is_object()) {
    return absl::InternalError(absl::StrCat("dockerd sent no object for ", what));
  }
  return parsed;
}

DockerNetwork NetworkFrom(const Json& item) {
  DockerNetwork network;
  network.id = String(item, "Id");
  network.name = String(item, "Name");
  network.labels = StringMap(Member(item, "Labels"));
  network.internal = Boolean(item, "Internal");
  const Json& config = Member(Member(item, "IPAM"), "Config");
  if (config.is_array() && !config.empty()) {
    network.subnet = String(config[0], "Subnet");
    network.gateway = String(config[0], "Gateway");
  }
  absl::SimpleAtoi(String(Member(item, "Options"), kMtuOption), &network.mtu);
  const Json& containers = Member(item, "Containers");
  network.containers = containers.is_object() ? static_cast<int>(containers.size()) : 0;
  return network;
}

DockerContainer ContainerFromListItem(const Json& item) {
  DockerContainer container;
  container.id = String(item, "Id");
  const Json& names = Member(item, "Names");
  if (names.is_array() && !names.empty() && names[0].is_string()) {
    std::string name = names[0].get<std::string>();
    container.name = !name.empty() && name[0] == '/' ? name.substr(1) : name;
  }
  container.labels = StringMap(Member(item, "Labels"));
  container.state = String(item, "State");
  std::string status = String(item, "Status");
  if (status.find("(healthy)") != std::string::npos)
    container.health = "healthy";
  else if (status.find("(unhealthy)") != std::string::npos)
    container.health = "unhealthy";
  else if (status.find("(health: starting)") != std::string::npos)
    container.health = "starting";
  container.network_addresses = Addresses(Member(Member(item, "NetworkSettings"), "Networks"));
  return container;
}

}  // namespace

absl::StatusOr<DockerHostInfo> DecodeInfo(const std::string& body) {
  absl::StatusOr<Json> info = ParseObject(body, "/info");
  if (!info.ok()) return info.status();
  DockerHostInfo host;
  host.server_version = String(*info, "ServerVersion");
  host.memory_bytes = Integer(*info, "MemTotal");
  host.cpus = Integer(*info, "NCPU");
  auto plugins = info->find("Plugins");
  if (plugins != info->end() && plugins->is_object()) {
    auto log = plugins->find("Log");
    if (log != plugins->end() && log->is_array())
      for (const Json& driver : *log)
        if (driver.is_string()) host.log_drivers.push_back(driver.get<std::string>());
  }
  return host;
}

absl::StatusOr<std::vector<DockerContainer>> DecodeContainerList(const std::string& body) {
  absl::StatusOr<Json> list = ParseArray(body, "/containers/json");
  if (!list.ok()) return list.status();
  std::vector<DockerContainer> containers;
  for (const Json& item : *list) containers.push_back(ContainerFromListItem(item));
  return containers;
}

absl::StatusOr<DockerContainer> DecodeContainerInspect(const std::string& body) {
  absl::StatusOr<Json> item = ParseObject(body, "container inspect");
  if (!item.ok()) return item.status();
  DockerContainer container;
  container.id = String(*item, "Id");
  container.name = String(*item, "Name");
  if (!container.name.empty() && container.name[0] == '/') container.name.erase(0, 1);
  const Json& config = Member(*item, "Config");
  container.labels = StringMap(Member(config, "Labels"));
  const Json& state = Member(*item, "State");
  container.state = String(state, "Status");
  container.exit_code = SmallInteger(state, "ExitCode");
  container.oom_killed = Boolean(state, "OOMKilled");
  container.started_at = String(state, "StartedAt");
  container.error = String(state, "Error");
  container.pid = SmallInteger(state, "Pid");
  container.health = String(Member(state, "Health"), "Status");
  container.restart_count = SmallInteger(*item, "RestartCount");
  container.network_addresses = Addresses(Member(Member(*item, "NetworkSettings"), "Networks"));
  const Json& host = Member(*item, "HostConfig");
  container.memory_bytes = Integer(host, "Memory");
  container.nano_cpus = Integer(host, "NanoCpus");
  const Json& check = Member(config, "Healthcheck");
  if (check.is_object()) {
    DockerHealthCheck health;
    const Json& test = Member(check, "Test");
    for (const Json& word : test.is_array() ? test : Json::array()) {
      if (word.is_string()) health.test.push_back(word.get<std::string>());
    }
    health.interval_ns = Integer(check, "Interval");
    health.timeout_ns = Integer(check, "Timeout");
    health.start_period_ns = Integer(check, "StartPeriod");
    health.retries = SmallInteger(check, "Retries");
    container.healthcheck = health;
  }
  return container;
}

absl::StatusOr<std::vector<DockerNetwork>> DecodeNetworkList(const std::string& body) {
  absl::StatusOr<Json> list = ParseArray(body, "/networks");
  if (!list.ok()) return list.status();
  std::vector<DockerNetwork> networks;
  for (const Json& item : *list) {
    DockerNetwork network = NetworkFrom(item);
    network.containers = 0;  // the list does not report attachments
    networks.push_back(std::move(network));
  }
  return networks;
}

absl::StatusOr<DockerNetwork> DecodeNetworkInspect(const std::string& body) {
  absl::StatusOr<Json> item = ParseObject(body, "network inspect");
  if (!item.ok()) return item.status();
  return NetworkFrom(*item);
}

absl::StatusOr<DockerImage> DecodeImageInspect(const std::string& body) {
  absl::StatusOr<Json> item = ParseObject(body, "image inspect");
  if (!item.ok()) return item.status();
  return DockerImage{String(*item, "Id"), String(Member(*item, "Config"), "User")};
}

absl::StatusOr<std::vector<DockerVolume>> DecodeVolumeList(const std::string& body) {
  absl::StatusOr<Json> list = ParseObject(body, "/volumes");
  if (!list.ok()) return list.status();
  std::vector<DockerVolume> volumes;
  const Json& items = Member(*list, "Volumes");
  for (const Json& item : items.is_array() ? items : Json::array()) {
    volumes.push_back({String(item, "Name"), StringMap(Member(item, "Labels"))});
  }
  return volumes;
}

absl::StatusOr<std::string> DecodeId(const std::string& body, const std::string& what) {
  absl::StatusOr<Json> created = ParseObject(body, what);
  if (!created.ok()) return created.status();
  return String(*created, "Id");
}

absl::StatusOr<std::string> DecodeApiVersion(const std::string& body) {
  absl::StatusOr<Json> version = ParseObject(body, "/version");
  if (!version.ok()) return version.status();
  return String(*version, "ApiVersion");
}

absl::StatusOr<int> DecodeExecExitCode(const std::string& body) {
  absl::StatusOr<Json> result = ParseObject(body, "exec inspect");
  if (!result.ok()) return result.status();
  if (Boolean(*result, "Running")) return absl::InternalError("exec output ended while the command still runs");
  // No exit code recorded (null or absent: the command was killed, or dockerd lost it) is no success.
  auto code = result->find("ExitCode");
  if (code == result->end() || !code->is_number_integer()) {
    return absl::InternalError("the command ended without an exit code (killed, or dockerd lost track of it)");
  }
  return SmallInteger(*result, "ExitCode");
}

int DecodeExecPid(const std::string& body) {
  absl::StatusOr<Json> result = ParseObject(body, "exec inspect");
  if (!result.ok() || !Boolean(*result, "Running")) return 0;
  return SmallInteger(*result, "Pid");
}

std::optional<std::string> DecodeProgressError(const std::string& line) {
  Json progress = Json::parse(line, nullptr, false);
  if (progress.is_discarded() || !progress.is_object() || !progress.contains("error")) return std::nullopt;
  return String(progress, "error");
}

std::optional<DockerEvent> DecodeEvent(const std::string& line) {
  Json item = Json::parse(line, nullptr, false);
  if (item.is_discarded() || !item.is_object()) return std::nullopt;
  DockerEvent event;
  event.type = String(item, "Type");
  event.action = String(item, "Action");
  const Json& actor = Member(item, "Actor");
  event.id = String(actor, "ID");
  event.attributes = StringMap(Member(actor, "Attributes"));
  return event;
}

std::string DecodeErrorMessage(const std::string& body) {
  Json error = Json::parse(body, nullptr, false);
  if (!error.is_discarded() && error.is_object()) return String(error, "message");
  return body;
}

// Bytes that are not UTF-8 (never from a manifest: protobuf refuses them) become U+FFFD instead of
// throwing out of the agent.
namespace {
std::string Dump(const Json& body) { return body.dump(-1, ' ', false, Json::error_handler_t::replace); }
// A static address, and the MAC derived from it (common/ipv4.h): Docker 25 and later would pick a
// random one, which no other node could know.
Json EncodeEndpoint(const std::string& ipv4_address) {
  Json endpoint = {{"IPAMConfig", {{"IPv4Address", ipv4_address}}}};
  if (absl::StatusOr<uint32_t> address = ParseIpv4(ipv4_address); address.ok()) {
    endpoint["MacAddress"] = MacAddressFor(*address);
  }
  return endpoint;
}

}  // namespace

std::string EncodeContainerCreate(const DockerContainerSpec& spec) {
  Json body = {{"Image", spec.image}, {"Labels", spec.labels}, {"Env", spec.env}};
  if (!spec.entrypoint.empty()) body["Entrypoint"] = spec.entrypoint;
  if (!spec.cmd.empty()) body["Cmd"] = spec.cmd;
  if (!spec.user.empty()) body["User"] = spec.user;
  if (!spec.working_dir.empty()) body["WorkingDir"] = spec.working_dir;
  if (spec.healthcheck) {
    body["Healthcheck"] = {{"Test", spec.healthcheck->test},
                           {"Interval", spec.healthcheck->interval_ns},
                           {"Timeout", spec.healthcheck->timeout_ns},
                           {"StartPeriod", spec.healthcheck->start_period_ns},
                           {"Retries", spec.healthcheck->retries}};
  }
  Json host = {{"RestartPolicy", {{"Name", spec.restart_policy}}}};
  if (spec.memory_bytes > 0) host["Memory"] = spec.memory_bytes;
  if (spec.memory_reservation_bytes > 0) host["MemoryReservation"] = spec.memory_reservation_bytes;
  if (spec.nano_cpus > 0) host["NanoCpus"] = spec.nano_cpus;
  Json mounts = Json::array();
  for (const DockerMount& mount : spec.mounts) {
    bool bind = !mount.host_path.empty();
    mounts.push_back({{"Type", bind ? "bind" : "volume"},
                      {"Source", bind ? mount.host_path : mount.volume},
                      {"Target", mount.target},
                      {"ReadOnly", mount.read_only}});
  }
  host["Mounts"] = mounts;
  if (spec.privileged) host["Privileged"] = true;
  if (!spec.cap_add.empty()) host["CapAdd"] = spec.cap_add;
  if (!spec.cap_drop.empty()) host["CapDrop"] = spec.cap_drop;
  if (spec.read_only_root_filesystem) host["ReadonlyRootfs"] = true;
  if (spec.pids_limit != 0) host["PidsLimit"] = spec.pids_limit;
  if (spec.no_new_privileges) host["SecurityOpt"] = Json::array({"no-new-privileges:true"});
  if (!spec.log_driver.empty() || spec.log_max_bytes > 0 || spec.log_max_files > 0) {
    Json config = Json::object();
    for (const auto& [key, value] : spec.log_options) config[key] = value;
    if (spec.log_max_bytes > 0) config["max-size"] = absl::StrCat(spec.log_max_bytes);
    if (spec.log_max_files > 0) config["max-file"] = absl::StrCat(spec.log_max_files);
    host["LogConfig"] = {{"Type", spec.log_driver.empty() ? "json-file" : spec.log_driver}, {"Config", config}};
  }
  if (spec.host_pid) host["PidMode"] = "host";
  if (spec.host_network) host["NetworkMode"] = "host";
  Json exposed = Json::object(), bindings = Json::object();
  for (const DockerPort& port : spec.ports) {
    std::string key = absl::StrCat(port.container_port, "/", port.protocol);
    exposed[key] = Json::object();
    bindings[key].push_back({{"HostIp", port.host_ip}, {"HostPort", absl::StrCat(port.host_port)}});
  }
  if (!exposed.empty()) {
    body["ExposedPorts"] = exposed;
    host["PortBindings"] = bindings;
  }
  if (!spec.network.empty()) {
    host["NetworkMode"] = spec.network;
    Json endpoint = Json::object();
    if (!spec.ipv4_address.empty()) endpoint = EncodeEndpoint(spec.ipv4_address);
    body["NetworkingConfig"] = {{"EndpointsConfig", {{spec.network, endpoint}}}};
  }
  body["HostConfig"] = host;
  return Dump(body);
}

std::string EncodeNetworkCreate(const DockerNetworkSpec& spec) {
  Json body = {{"Name", spec.name},
               {"Driver", "bridge"},
               {"Internal", spec.internal},
               {"Labels", spec.labels},
               {"CheckDuplicate", true}};
  if (spec.mtu != 0) body["Options"] = {{kMtuOption, absl::StrCat(spec.mtu)}};
  if (!spec.subnet.empty()) {
    Json config = {{"Subnet", spec.subnet}};
    if (!spec.gateway.empty()) config["Gateway"] = spec.gateway;
    body["IPAM"] = {{"Driver", "default"}, {"Config", Json::array({config})}};
  }
  return Dump(body);
}

std::string EncodeNetworkConnect(const std::string& container_id, const std::string& ipv4_address) {
  Json body = {{"Container", container_id},
               {"EndpointConfig", ipv4_address.empty() ? Json::object() : EncodeEndpoint(ipv4_address)}};
  return Dump(body);
}

absl::StatusOr<DockerStats> DecodeStats(const std::string& body) {
  absl::StatusOr<Json> stats = ParseObject(body, "container stats");
  if (!stats.ok()) return stats.status();
  DockerStats result;
  const Json& cpu = Member(*stats, "cpu_stats");
  const Json& before = Member(*stats, "precpu_stats");
  int64_t cpu_delta =
      Integer(Member(cpu, "cpu_usage"), "total_usage") - Integer(Member(before, "cpu_usage"), "total_usage");
  int64_t system_delta = Integer(cpu, "system_cpu_usage") - Integer(before, "system_cpu_usage");
  int64_t cpus = Integer(cpu, "online_cpus");
  if (cpus == 0) cpus = static_cast<int64_t>(Member(Member(cpu, "cpu_usage"), "percpu_usage").size());
  if (cpu_delta > 0 && system_delta > 0) {
    result.cpu_percent = static_cast<double>(cpu_delta) / static_cast<double>(system_delta) *
                         static_cast<double>(std::max<int64_t>(cpus, 1)) * 100.0;
  }
  const Json& memory = Member(*stats, "memory_stats");
  const Json& memory_detail = Member(memory, "stats");
  // cgroup v2 names it inactive_file, v1 total_inactive_file: page cache, not the container's own.
  int64_t cache = Integer(memory_detail, "inactive_file") + Integer(memory_detail, "total_inactive_file");
  result.memory_bytes = std::max<int64_t>(0, Integer(memory, "usage") - cache);
  result.memory_limit_bytes = Integer(memory, "limit");
  const Json& networks = Member(*stats, "networks");
  if (networks.is_object()) {
    for (const auto& [name, network] : networks.items()) {
      result.network_rx_bytes += Integer(network, "rx_bytes");
      result.network_tx_bytes += Integer(network, "tx_bytes");
    }
  }
  const Json& io = Member(Member(*stats, "blkio_stats"), "io_service_bytes_recursive");
  for (const Json& entry : io.is_array() ? io : Json::array()) {
    std::string op = String(entry, "op");
    if (op == "read" || op == "Read") result.block_read_bytes += Integer(entry, "value");
    if (op == "write" || op == "Write") result.block_write_bytes += Integer(entry, "value");
  }
  result.pids = SmallInteger(Member(*stats, "pids_stats"), "current");
  return result;
}

absl::Status DockerHttpError(long code, const std::string& body, const std::string& method, const std::string& path) {
  std::string message = DecodeErrorMessage(body);
  std::string text = absl::StrCat("docker ", method, " ", path.substr(0, path.find('?')), ": ", message);
  if (code == 404) return absl::NotFoundError(text);
  if (code == 409) return absl::AlreadyExistsError(text);
  if (code < 500) return absl::FailedPreconditionError(text);
  return absl::InternalError(text);
}

}  // namespace opctl::agent
