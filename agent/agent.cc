#include "agent/agent.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/api_names.h"
#include "common/controller_channel.h"
#include "common/ipv4.h"
#include "common/keepalive.h"
#include "common/malformed_requests.h"
#include "common/periodic.h"
#include "common/version.h"

namespace opctl::agent {
namespace {

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "[::1]" || host == "::1" || absl::StartsWith(host, "127.");
}

}  // namespace

Agent::Agent(DockerClient& docker, AgentOptions options)
    : docker_(docker),
      options_(std::move(options)),
      // Three heartbeats missed (at least a second) and this node no longer counts as reaching it.
      fence_(std::max(3 * options_.heartbeat_interval, absl::Seconds(1))) {
  if (options_.publish_fence_deadline) fence_.SetPublisher(options_.publish_fence_deadline);
}

Agent::~Agent() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  backups_.reset();
  if (server_) server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  events_.reset();
  link_.reset();
  queue_.ShutDown();
  for (std::thread& worker : workers_) worker.join();
  if (resync_thread_.joinable()) resync_thread_.join();
}

absl::Status Agent::Start() {
  absl::StatusOr<DockerHostInfo> info = docker_.Info();
  for (int attempt = 0; !info.ok() && attempt < 100; ++attempt) {
    if (attempt == 0) options_.logger->Log("agent", absl::StrCat("waiting for dockerd: ", info.status().ToString()));
    absl::SleepFor(absl::Milliseconds(200));
    info = docker_.Info();
  }
  if (!info.ok()) return info.status();
  log_drivers_ = info->log_drivers;

  v1::Node node;
  node.mutable_metadata()->set_name(options_.node_name);
  for (const auto& [key, value] : options_.labels) (*node.mutable_metadata()->mutable_labels())[key] = value;
  node.mutable_status()->mutable_capacity()->set_memory_bytes(info->memory_bytes);
  node.mutable_status()->mutable_capacity()->set_milli_cpus(info->cpus * 1000);
  node.mutable_status()->set_docker_version(info->server_version);
  node.mutable_status()->set_api_version(info->api_version);
  node.mutable_status()->set_agent_version(OpctlVersion());
  StartArchiver();
  absl::StatusOr<std::string> advertise = ServeOperations();
  if (!advertise.ok()) return advertise.status();
  node.mutable_status()->set_agent_address(*advertise);
  node.mutable_status()->set_overlay_address(StartOverlay(*advertise));
  if (absl::Status linked = MakeReconcilerAndLink(); !linked.ok()) return linked;

  if (absl::Status held = reconciler_->RefreshVolumesHeld(); !held.ok()) {
    options_.logger->Warn("agent", absl::StrCat("cannot list this node's volumes yet: ", held.ToString()));
  }
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { Work(); });
  backups_->Start();
  events_->Start();
  event_reporter_->Start();
  link_->Start(node);
  resync_thread_ =
      std::thread([this] { RunPeriodically(mutex_, &stopping_, options_.resync_interval, [this] { ResyncAll(); }); });
  std::printf("opctl-agent: node %s (docker %s, API %s, %lld CPUs, %lld MiB) following %s, serving on %s\n",
              options_.node_name.c_str(), info->server_version.c_str(), info->api_version.c_str(),
              static_cast<long long>(info->cpus), static_cast<long long>(info->memory_bytes >> 20),
              options_.controller_address.c_str(), advertise->c_str());
  std::fflush(stdout);
  return absl::OkStatus();
}

void Agent::StartArchiver() {
  VolumeArchiverOptions archiver_options;
  archiver_options.node_name = options_.node_name;
  archiver_options.logger = options_.logger;
  archiver_options.helper_image = options_.helper_image;
  archiver_options.pre_backup_timeout = options_.pre_backup_timeout;
  archiver_options.restore_timeout = options_.restore_timeout;
  archiver_options.max_restore_bytes = options_.max_restore_bytes;
  archiver_options.adopts = [this](const std::string& volume) {
    std::optional<v1::Object> object = desired_.Find(kKindVolume, volume);
    return object && object->volume().spec().adopt_existing();
  };
  archiver_ = std::make_unique<VolumeArchiver>(docker_, volume_locks_, archiver_options);
  archiver_->RemoveLeftoverHelpers();
}

// The operations port (logs, backup, restore) and the peer service; the address to advertise.
absl::StatusOr<std::string> Agent::ServeOperations() {
  // With TLS, the operations port serves this node's certificate and takes only the controller's.
  bool tls = !options_.tls.ca.empty();
  std::string listen_host = options_.listen_address.substr(0, options_.listen_address.rfind(':'));
  if (!tls && !IsLoopbackHost(listen_host)) {
    // Plaintext operations are root on this host's volumes: never beyond this machine.
    return absl::FailedPreconditionError(absl::StrCat(
        "--insecure serves the operations port (logs, volume backup and restore) without TLS or any check of "
        "the caller, so only on loopback (--listen 127.0.0.1:PORT), not on ",
        options_.listen_address, "; give --tls-ca, --tls-cert and --tls-key to listen beyond this machine"));
  }
  std::shared_ptr<grpc::ServerCredentials> server_credentials = grpc::InsecureServerCredentials();
  if (tls) {
    absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> serving =
        TlsServerCredentials(options_.tls, /*require_client_certificate=*/true);
    if (!serving.ok()) return serving.status();
    server_credentials = *std::move(serving);
  }
  operations_ =
      std::make_unique<OperationsService>(docker_, *archiver_, options_.node_name, tls, options_.stream_write_timeout);
  peer_service_ = std::make_unique<PeerService>(fence_, options_.node_name, tls);
  grpc::ServerBuilder builder;
  AddKeepaliveArguments(builder);
  builder.experimental().SetInterceptorCreators(MalformedRequestInterceptors());
  int port = 0;
  builder.AddListeningPort(options_.listen_address, server_credentials, &port);
  builder.RegisterService(operations_.get());
  builder.RegisterService(peer_service_.get());
  server_ = builder.BuildAndStart();
  if (server_ == nullptr || port == 0) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen_address));
  }
  std::string advertise = options_.advertise_address;
  if (advertise.empty()) {
    std::string host = options_.listen_address.substr(0, options_.listen_address.rfind(':'));
    advertise = absl::StrCat(host == "0.0.0.0" || host == "[::]" ? "127.0.0.1" : host, ":", port);
  }
  return advertise;
}

std::string Agent::StartOverlay(const std::string& advertised) {
  std::string address = options_.overlay_address;
  if (address == "auto") {
    address = advertised.substr(0, advertised.rfind(':'));
    absl::StatusOr<uint32_t> parsed = ParseIpv4(address);
    if (!parsed.ok() || IsLoopbackHost(address) || *parsed == 0) address = "none";
  }
  if (address == "none") return "";
  absl::StatusOr<std::unique_ptr<NetlinkDataplane>> dataplane = NetlinkDataplane::Open();
  if (!dataplane.ok()) {
    options_.logger->Log("overlay",
                         absl::StrCat("off (Networks do not span to this node): ", dataplane.status().ToString()));
    return "";
  }
  dataplane_ = *std::move(dataplane);
  overlay_ = std::make_unique<Overlay>(*dataplane_, options_.node_name, address);
  return address;
}

absl::Status Agent::MakeReconcilerAndLink() {
  ReconcilerOptions reconciler_options;
  reconciler_options.overlay = overlay_.get();
  reconciler_options.volume_locks = &volume_locks_;
  reconciler_options.fence = &fence_;
  reconciler_options.node_name = options_.node_name;
  reconciler_options.logger = options_.logger;
  reconciler_options.unhealthy_restart_after = options_.unhealthy_restart_after;
  reconciler_options.pull_policy = options_.pull_policy;
  reconciler_options.log_drivers = log_drivers_;
  reconciler_options.protected_trees = {{options_.backup_dir, "this agent's volume backups"},
                                        {options_.run_dir, "this agent's run directory"}};
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(256 << 20);
  absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials = AgentChannelCredentials(options_.tls);
  if (!credentials.ok()) return credentials.status();
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      ControllerChannel(options_.controller_address, *credentials, arguments);
  if (!channel.ok()) return channel.status();
  witness_ = std::make_unique<PeerWitness>(options_.node_name, options_.tls);
  event_reporter_ = std::make_unique<EventReporter>(
      *channel, EventReporterOptions{.node_name = options_.node_name, .logger = options_.logger});
  reconciler_options.events = event_reporter_.get();
  ControllerLinkOptions link_options{options_.node_name, options_.labels, options_.heartbeat_interval};
  link_options.witness = witness_.get();
  link_options.logger = options_.logger;
  // Read by the heartbeat thread, which link_->Start below starts after reconciler_ is set.
  link_options.volumes_held = [this] { return reconciler_->VolumesHeld(); };
  link_ = std::make_unique<ControllerLink>(
      *channel, desired_, fence_, [this](const std::vector<std::string>& keys) { Enqueue(keys); },
      [this] { ResyncAll(); }, link_options);
  reconciler_ = std::make_unique<Reconciler>(docker_, desired_, *link_, Clock::Real(), reconciler_options);
  events_ = std::make_unique<DockerEventWatcher>(
      docker_, options_.node_name, [this](const std::string& key) { Enqueue({key}); }, [this] { ResyncAll(); },
      *options_.logger);

  backups_ = std::make_unique<BackupScheduler>(
      docker_, desired_, *archiver_,
      [this](const std::string& volume, const v1::VolumeStatus& status) {
        return link_->UpdateVolumeStatus(volume, status);
      },
      BackupSchedulerOptions{.node_name = options_.node_name,
                             .backup_dir = options_.backup_dir,
                             .logger = options_.logger,
                             .events = event_reporter_.get()});

  return absl::OkStatus();
}

void Agent::Enqueue(const std::vector<std::string>& keys) {
  for (const std::string& key : keys) queue_.Add(key);
}

void Agent::ResyncAll() {
  if (!desired_.synced()) {
    options_.logger->Log("agent",
                         "resync: the desired state has not been listed yet (is the controller down?); nothing is "
                         "removed until it is");
  }
  Enqueue(desired_.Keys());
  queue_.Add(kGcKey);
}

void Agent::Work() {
  while (std::optional<std::string> key = queue_.Get()) {
    absl::Time started = absl::Now();
    absl::StatusOr<absl::Duration> result = reconciler_->Reconcile(*key);
    work_.Record(result.status(), absl::Now() - started);
    if (!result.ok()) {
      int failures = queue_.Failures(*key) + 1;
      if (failures == 1 || failures % 10 == 0) {
        options_.logger->Log("agent",
                             absl::StrCat(*key, ": ", result.status().ToString(), " (attempt ", failures, ")"));
      }
      queue_.AddRateLimited(*key);
    } else {
      queue_.Forget(*key);
      if (*result > absl::ZeroDuration()) queue_.AddAfter(*key, *result);
    }
    queue_.Done(*key);
  }
}

}  // namespace opctl::agent
