// opctl-agent: parses flags and runs one agent for this Docker host.
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "agent/agent.h"
#include "agent/agent_metrics.h"
#include "agent/curl_docker_client.h"
#include "agent/docker_metrics.h"
#include "agent/fence_guard.h"
#include "common/flags.h"
#include "common/grpc_runtime.h"
#include "common/logger.h"
#include "common/metrics_endpoint.h"
#include "common/version.h"

constexpr char kDefaultMetricsListen[] = "127.0.0.1:7090";
ABSL_FLAG(std::string, log_format, "text",
          "how log lines on stderr read: text (TIME LEVEL component: message) or json (one object a line: time, "
          "level, component, msg)");
ABSL_FLAG(int, v, 0, "verbosity: 1 adds debug lines, 2 also one for every reconcile pass");
ABSL_FLAG(std::string, metrics_listen, kDefaultMetricsListen,
          "address of the agent's Prometheus endpoint (GET /metrics), or several as IP:PORT,IP:PORT; empty: "
          "none. If the default is taken (another agent on this host), the agent says so and runs without");
ABSL_FLAG(std::string, controller, "127.0.0.1:7070",
          "address of opctl-controller, or of several as IP:PORT,IP:PORT (the agent keeps to one and moves on when it "
          "fails)");
ABSL_FLAG(std::string, node, "", "this node's name (default: the host name)");
ABSL_FLAG(std::string, labels, "", "node labels, k=v,k2=v2");
ABSL_FLAG(std::string, docker_socket, "/var/run/docker.sock", "dockerd's unix socket");
ABSL_FLAG(absl::Duration, heartbeat_interval, absl::Milliseconds(300),
          "how often to tell the controller we live (its grace, 2.5 s by default, must hold several)");
ABSL_FLAG(absl::Duration, resync_interval, absl::Seconds(30), "full reconcile pass period (events do the rest)");
ABSL_FLAG(std::string, pull, "explicit-registry",
          "when to pull a missing image: missing, explicit-registry (never Docker Hub implicitly) or never");
ABSL_FLAG(absl::Duration, unhealthy_restart_after, absl::Seconds(30),
          "restart a container Docker reports unhealthy for this long");

ABSL_FLAG(int, workers, 8,
          "containers reconciled at once (Docker calls mostly wait on dockerd, so more than the CPUs helps)");
ABSL_FLAG(std::string, listen, "127.0.0.1:0",
          "where to serve logs and volume backup/restore to the controller (port 0: any free port)");
ABSL_FLAG(std::string, overlay_address, "auto",
          "the IPv4 address other nodes reach this node's VXLAN endpoint on (UDP 4789), so that Networks span "
          "hosts; auto: the --advertise (or --listen) host when it is IPv4 beyond loopback; none: off");
ABSL_FLAG(std::string, advertise, "", "the address the controller should call (default: listen host and port)");
ABSL_FLAG(std::string, helper_image, "opctl/toolbox:0.1", "local image with sh and tar for volume backup and restore");
ABSL_FLAG(std::string, backup_dir, "/var/lib/opctl/backups", "where scheduled volume backups are kept");
ABSL_FLAG(absl::Duration, pre_backup_timeout, absl::Minutes(10),
          "how long a container's pre-backup command (opctl.io/backup-pre-command) may run");
ABSL_FLAG(absl::Duration, restore_timeout, absl::Hours(1), "how long a volume restore may take");
ABSL_FLAG(int64_t, max_restore_bytes, int64_t{64} << 30, "the largest archive taken for a restore");
ABSL_FLAG(absl::Duration, stream_write_timeout, absl::Seconds(60),
          "a log or backup stream whose caller (the controller) takes no data for this long is cut off");
ABSL_FLAG(std::string, tls_ca, "", "the CA that signed the controller's certificate (PEM)");
ABSL_FLAG(std::string, tls_cert, "", "this node's client certificate (PEM, CN = the node name; scripts/gen-certs.sh)");
ABSL_FLAG(std::string, tls_key, "", "its private key (PEM)");
ABSL_FLAG(bool, insecure, false, "talk plaintext to a controller started with --insecure");
ABSL_FLAG(bool, fence_guard, true,
          "fork a guard that removes this node's movable containers when the agent dies and its lease lapses");
ABSL_FLAG(std::string, run_dir, "/run/opctl-agent", "where the fence guard's pid file is kept");

namespace {

// The agent's options from its flags; INVALID_ARGUMENT says which is wrong.
absl::StatusOr<opctl::agent::AgentOptions> OptionsFromFlags() {
  opctl::agent::AgentOptions options;
  options.controller_address = absl::GetFlag(FLAGS_controller);
  options.node_name = absl::GetFlag(FLAGS_node);
  if (options.node_name.empty()) {
    char host[256] = {};
    gethostname(host, sizeof(host) - 1);
    options.node_name = host;
  }
  for (absl::string_view pair : absl::StrSplit(absl::GetFlag(FLAGS_labels), ',', absl::SkipEmpty())) {
    std::pair<std::string, std::string> label = absl::StrSplit(pair, absl::MaxSplits('=', 1));
    options.labels[label.first] = label.second;
  }
  if (!absl::GetFlag(FLAGS_insecure)) {
    options.tls = {absl::GetFlag(FLAGS_tls_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key)};
    if (options.tls.ca.empty() || options.tls.cert.empty() || options.tls.key.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("give --tls-ca, --tls-cert and --tls-key (scripts/gen-certs.sh DIR ", options.node_name,
                       " makes them), or --insecure for a plaintext controller"));
    }
  }
  options.heartbeat_interval = absl::GetFlag(FLAGS_heartbeat_interval);
  options.resync_interval = absl::GetFlag(FLAGS_resync_interval);
  options.unhealthy_restart_after = absl::GetFlag(FLAGS_unhealthy_restart_after);

  options.workers = std::max(1, absl::GetFlag(FLAGS_workers));
  options.listen_address = absl::GetFlag(FLAGS_listen);
  options.advertise_address = absl::GetFlag(FLAGS_advertise);
  options.overlay_address = absl::GetFlag(FLAGS_overlay_address);
  options.helper_image = absl::GetFlag(FLAGS_helper_image);
  options.backup_dir = absl::GetFlag(FLAGS_backup_dir);
  options.run_dir = absl::GetFlag(FLAGS_run_dir);
  options.pre_backup_timeout = absl::GetFlag(FLAGS_pre_backup_timeout);
  options.restore_timeout = absl::GetFlag(FLAGS_restore_timeout);
  options.max_restore_bytes = absl::GetFlag(FLAGS_max_restore_bytes);
  options.stream_write_timeout = absl::GetFlag(FLAGS_stream_write_timeout);
  std::string pull = absl::GetFlag(FLAGS_pull);
  if (pull == "missing")
    options.pull_policy = opctl::agent::PullPolicy::kMissing;
  else if (pull == "explicit-registry")
    options.pull_policy = opctl::agent::PullPolicy::kExplicitRegistry;
  else if (pull == "never")
    options.pull_policy = opctl::agent::PullPolicy::kNever;
  else
    return absl::InvalidArgumentError(
        absl::StrCat("--pull must be missing, explicit-registry or never, not \"", pull, "\""));
  return options;
}

// The --metrics-listen endpoint and the Docker calls it counts (none without an endpoint).
struct AgentEndpoint {
  std::unique_ptr<opctl::MetricsEndpoint> endpoint;
  std::optional<opctl::agent::DockerMetrics> docker;
};

absl::StatusOr<std::unique_ptr<AgentEndpoint>> StartMetrics(opctl::agent::CurlDockerClient& docker) {
  absl::StatusOr<std::unique_ptr<opctl::MetricsEndpoint>> endpoint =
      opctl::MetricsEndpoint::StartForFlag(absl::GetFlag(FLAGS_metrics_listen), kDefaultMetricsListen, "opctl-agent");
  if (!endpoint.ok()) return endpoint.status();
  auto metrics = std::make_unique<AgentEndpoint>();
  metrics->endpoint = *std::move(endpoint);
  if (metrics->endpoint == nullptr) return metrics;
  opctl::agent::DockerMetrics& counted = metrics->docker.emplace(metrics->endpoint->registry());
  docker.SetCallObserver(
      [&counted](const std::string& call, long status, absl::Duration took) { counted.Observe(call, status, took); });
  return metrics;
}

void ParseFlags(int argc, char** argv) {
  absl::SetProgramUsageMessage("opctl-agent --controller ADDR --node NAME [--labels k=v,...] [--docker-socket PATH]");
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] { return "opctl-agent " + opctl::OpctlVersion() + "\n"; };
  // --help lists the flags of this main.cc (absl's default looks for opctl-agent.cc).
  usage_config.contains_helpshort_flags = [](absl::string_view file) { return absl::EndsWith(file, "/main.cc"); };
  usage_config.contains_help_flags = usage_config.contains_helpshort_flags;
  absl::SetFlagsUsageConfig(usage_config);
  std::vector<std::string> arguments = opctl::NormalizeFlagNames(argc, argv);
  std::vector<char*> normalized = opctl::ArgvOf(arguments);
  absl::ParseCommandLine(static_cast<int>(arguments.size()), normalized.data());
}

}  // namespace

int main(int argc, char** argv) {
  // Outlives the agent and its channels; started only after the fence guard is forked, so that none
  // of gRPC's threads or state crosses the fork (the guard's own gRPC call then hung or failed).
  std::optional<opctl::GrpcRuntime> grpc;
  ParseFlags(argc, argv);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  opctl::Logger& log = opctl::Logger::Stderr();
  absl::Status logs = opctl::ConfigureStderrLogger(absl::GetFlag(FLAGS_log_format), absl::GetFlag(FLAGS_v));
  absl::StatusOr<opctl::agent::AgentOptions> flags = logs.ok() ? OptionsFromFlags() : logs;
  if (!flags.ok()) {
    log.Error("opctl-agent", flags.status().message());
    return 2;
  }
  opctl::agent::AgentOptions options = *std::move(flags);
  // Forked first, before any thread exists.
  std::optional<opctl::agent::FenceGuard> guard;
  if (absl::GetFlag(FLAGS_fence_guard)) {
    absl::StatusOr<opctl::agent::FenceGuard> started =
        opctl::agent::FenceGuard::Start(absl::GetFlag(FLAGS_docker_socket), options.node_name,
                                        absl::GetFlag(FLAGS_run_dir), options.controller_address, options.tls);
    if (!started.ok()) {
      log.Error("opctl-agent", absl::StrCat("fence guard: ", started.status().ToString()));
      return 1;
    }
    guard.emplace(*std::move(started));
    options.publish_fence_deadline = [&guard](absl::Time deadline) { guard->Publish(deadline); };
  }
  grpc.emplace();
  opctl::agent::CurlDockerClient docker(absl::GetFlag(FLAGS_docker_socket));
  // After the fork, as gRPC: the endpoint's thread must not cross it.
  absl::StatusOr<std::unique_ptr<AgentEndpoint>> metrics = StartMetrics(docker);
  if (!metrics.ok()) {
    log.Error("opctl-agent", absl::StrCat("--metrics-listen: ", metrics.status().message()));
    return absl::IsInvalidArgument(metrics.status()) ? 2 : 1;
  }
  opctl::agent::Agent agent(docker, options);
  if (absl::Status started = agent.Start(); !started.ok()) {
    log.Error("opctl-agent", started.ToString());
    return 1;
  }
  // Scraped once the agent's parts exist.
  auto agent_metrics = std::make_shared<opctl::agent::AgentMetrics>(agent);
  if ((*metrics)->endpoint) (*metrics)->endpoint->Add(agent_metrics);
  int signal = 0;
  sigwait(&signals, &signal);
  std::printf("opctl-agent: signal %d, stopping (containers keep running)\n", signal);
  return 0;
}
