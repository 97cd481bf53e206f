// The Docker seam: the few Engine API calls the agent needs, in opctl's own types. The real
// implementation speaks HTTP on the unix socket (curl_docker_client.h); tests of reconcile logic use
// FakeDockerClient.
//
// Errors: NOT_FOUND for Docker's 404, ALREADY_EXISTS for 409, FAILED_PRECONDITION for other 4xx,
// INTERNAL for 5xx, UNAVAILABLE when dockerd cannot be reached; each carries Docker's own message.
// Implementations are thread-safe.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace opctl::agent {

struct DockerHostInfo {
  std::string server_version;
  std::string api_version;  // the version the client speaks (negotiated)
  int64_t memory_bytes = 0;
  int64_t cpus = 0;
  std::vector<std::string> log_drivers;  // the log drivers it offers (Plugins.Log)
};

struct DockerHealthCheck {
  std::vector<std::string> test;
  int64_t interval_ns = 0, timeout_ns = 0, start_period_ns = 0;
  int retries = 0;
};

struct DockerPort {
  int container_port = 0;
  std::string protocol = "tcp";
  std::string host_ip;
  int host_port = 0;
};

struct DockerMount {
  std::string volume;     // a named volume, or
  std::string host_path;  // a path of the host (a bind mount)
  std::string target;
  bool read_only = false;
};

// What to create: Docker's container config, host config and one network endpoint.
struct DockerContainerSpec {
  std::string image;
  std::vector<std::string> entrypoint;  // empty: the image's
  std::vector<std::string> cmd;         // empty: the image's
  std::vector<std::string> env;         // NAME=value
  std::string user;
  std::string working_dir;
  std::map<std::string, std::string> labels;
  int64_t memory_bytes = 0;
  int64_t memory_reservation_bytes = 0;
  int64_t nano_cpus = 0;
  std::optional<DockerHealthCheck> healthcheck;
  std::string restart_policy;  // no, always, on-failure, unless-stopped
  std::vector<DockerMount> mounts;
  std::vector<DockerPort> ports;
  std::string network;        // attach to this network (empty: Docker's default bridge)
  std::string ipv4_address;   // static address on `network`
  bool host_network = false;  // the host's network namespace (then no `network`)
  bool host_pid = false;
  bool privileged = false;
  std::vector<std::string> cap_add, cap_drop;
  bool read_only_root_filesystem = false;
  int64_t pids_limit = 0;          // 0: Docker's default (none); -1: none
  bool no_new_privileges = false;  // setuid and file capabilities grant nothing
  // Docker's log driver (empty: Docker's default) and its options; json-file and local rotate at
  // this size with this many files kept (0: Docker's defaults).
  std::string log_driver;
  std::map<std::string, std::string> log_options;
  int64_t log_max_bytes = 0;
  int log_max_files = 0;
};

struct DockerImage {
  std::string id;
  std::string user;  // the image's USER; empty: root
};

struct DockerContainer {
  std::string id;
  std::string name;  // without the leading '/'
  std::map<std::string, std::string> labels;
  std::string state;   // created, running, paused, restarting, removing, exited, dead
  std::string health;  // starting, healthy, unhealthy, or empty
  int exit_code = 0;
  bool oom_killed = false;
  int restart_count = 0;  // Docker's own restarts under its restart policy
  std::string started_at;
  std::string error;
  std::map<std::string, std::string> network_addresses;  // network name -> IPv4
  // Filled by Inspect only (List leaves them empty).
  int64_t memory_bytes = 0;
  int64_t nano_cpus = 0;
  std::optional<DockerHealthCheck> healthcheck;
  int pid = 0;  // its main process on this host; 0 when not running
};

// The bridge driver's MTU option (its containers' and bridge's MTU).
inline constexpr char kMtuOption[] = "com.docker.network.driver.mtu";

struct DockerNetwork {
  std::string id;
  std::string name;
  std::map<std::string, std::string> labels;
  std::string subnet;
  std::string gateway;
  bool internal = false;
  int containers = 0;  // attached containers (Inspect only; List reports 0)
  int mtu = 0;         // its com.docker.network.driver.mtu option; 0: Docker's default (1500)
};

struct DockerNetworkSpec {
  std::string name;
  std::string subnet, gateway;
  bool internal = false;
  std::map<std::string, std::string> labels;
  int mtu = 0;  // 0: Docker's default
};

struct DockerVolume {
  std::string name;
  std::map<std::string, std::string> labels;
};

struct DockerEvent {
  std::string type;    // container, network, volume, ...
  std::string action;  // die, kill, destroy, start, oom, health_status: healthy, ...
  std::string id;
  std::map<std::string, std::string> attributes;  // includes the container's labels and name
};

// One sample of GET /containers/ID/stats, worked out as `docker stats` prints it.
struct DockerStats {
  double cpu_percent = 0;          // 100 per busy CPU, over Docker's two samples a second apart
  int64_t memory_bytes = 0;        // in use, less the page cache the kernel may drop (inactive files)
  int64_t memory_limit_bytes = 0;  // the container's limit, or the host's memory
  int64_t network_rx_bytes = 0, network_tx_bytes = 0;
  int64_t block_read_bytes = 0, block_write_bytes = 0;
  int pids = 0;
};

struct DockerLogOptions {
  bool follow = false;
  int tail = 0;            // last N lines; 0: all
  int64_t since_unix = 0;  // only lines after this time; 0: all
  bool timestamps = false;
};

// Output of a container or exec: stream 1 is stdout, 2 stderr. Returns false to stop reading.
using OutputSink = std::function<bool(int stream, std::string_view data)>;
// Asked about once a second while a stream is idle; true ends it.
using CancelCheck = std::function<bool()>;

struct DockerExecOptions {
  std::vector<std::string> command;
  std::string user;  // empty: the container's
  bool tty = false;
  bool stdin = false;
};

// A command started with Docker's exec and attached both ways on a connection of its own. One thread
// may read output while another writes input or resizes.
class DockerExecSession {
 public:
  virtual ~DockerExecSession() = default;
  // Hands output to `sink` (stream 1: stdout, or all of a TTY's; 2: stderr) until the command closes
  // it, the sink returns false, or `cancelled`. Blocks.
  virtual absl::Status ReadOutput(const OutputSink& sink, const CancelCheck& cancelled) = 0;
  virtual absl::Status WriteInput(std::string_view data) = 0;
  // The command sees end of file on its stdin.
  virtual absl::Status CloseInput() = 0;
  virtual absl::Status Resize(int rows, int columns) = 0;
  // After ReadOutput has ended: the command's exit code (waits a little for Docker to record it).
  virtual absl::StatusOr<int> ExitCode() = 0;
  // Kills the command if it still runs: Docker leaves an exec running when its caller goes.
  virtual absl::Status Kill() = 0;
};

class DockerClient {
 public:
  virtual ~DockerClient() = default;

  virtual absl::StatusOr<DockerHostInfo> Info() = 0;

  // Containers (running or not) carrying every label of `labels` (empty: all).
  virtual absl::StatusOr<std::vector<DockerContainer>> ListContainers(
      const std::map<std::string, std::string>& labels) = 0;
  virtual absl::StatusOr<DockerContainer> InspectContainer(const std::string& id_or_name) = 0;
  // Returns the new container's id. ALREADY_EXISTS when the name is taken.
  virtual absl::StatusOr<std::string> CreateContainer(const std::string& name, const DockerContainerSpec& spec) = 0;
  virtual absl::Status StartContainer(const std::string& id) = 0;
  virtual absl::Status RestartContainer(const std::string& id, int timeout_seconds) = 0;
  virtual absl::Status StopContainer(const std::string& id, int timeout_seconds) = 0;
  // Force-removes (kills first); anonymous volumes go too, named ones stay. NOT_FOUND when absent.
  virtual absl::Status RemoveContainer(const std::string& id) = 0;

  // A sample of a running container's use (takes about a second: Docker measures CPU over two).
  virtual absl::StatusOr<DockerStats> ContainerStats(const std::string& id) = 0;
  // Every container, managed or not, that mounts the named volume.
  virtual absl::StatusOr<std::vector<DockerContainer>> ListContainersUsingVolume(const std::string& volume) = 0;
  // The container's log output until it ends (follow: until the container stops) or `cancelled`.
  virtual absl::Status StreamLogs(const std::string& id, const DockerLogOptions& options, const OutputSink& sink,
                                  const CancelCheck& cancelled) = 0;
  // Runs `command` in the running container (as `user` when given), streaming its output; returns its
  // exit code.
  virtual absl::StatusOr<int> Exec(const std::string& id, const std::vector<std::string>& command,
                                   const std::string& user, const OutputSink& sink, const CancelCheck& cancelled) = 0;
  // Starts `options.command` in the running container, attached as `options` asks.
  virtual absl::StatusOr<std::unique_ptr<DockerExecSession>> AttachExec(const std::string& id,
                                                                        const DockerExecOptions& options) = 0;
  // Extracts the tar archive in `tar_file` (a path on this host) into `path` in the container, as the
  // root user of the container's filesystem.
  virtual absl::Status PutArchive(const std::string& id, const std::string& path, const std::string& tar_file) = 0;

  virtual absl::StatusOr<std::vector<DockerNetwork>> ListNetworks(const std::map<std::string, std::string>& labels) = 0;
  virtual absl::StatusOr<DockerNetwork> InspectNetwork(const std::string& id_or_name) = 0;
  virtual absl::StatusOr<std::string> CreateNetwork(const DockerNetworkSpec& spec) = 0;
  virtual absl::Status RemoveNetwork(const std::string& id) = 0;
  // Attaches a created container to one more network, at `ipv4_address` when given.
  virtual absl::Status ConnectNetwork(const std::string& network, const std::string& container_id,
                                      const std::string& ipv4_address) = 0;

  virtual absl::StatusOr<std::vector<DockerVolume>> ListVolumes(const std::map<std::string, std::string>& labels) = 0;
  virtual absl::Status CreateVolume(const std::string& name, const std::map<std::string, std::string>& labels) = 0;
  virtual absl::Status RemoveVolume(const std::string& name) = 0;

  // NOT_FOUND when the image is not on the host.
  virtual absl::StatusOr<DockerImage> InspectImage(const std::string& reference) = 0;
  // Pulls from the image's registry; the registry's error when that fails.
  virtual absl::Status PullImage(const std::string& reference) = 0;

  // Streams events of containers carrying every label of `labels` until `on_event` returns false,
  // `cancel` becomes true, or the stream breaks (UNAVAILABLE: dockerd went away). Blocks.
  virtual absl::Status StreamEvents(const std::map<std::string, std::string>& labels,
                                    const std::function<bool(const DockerEvent&)>& on_event,
                                    const std::atomic<bool>& cancel) = 0;
};

}  // namespace opctl::agent
