// opctl-controller: parses flags and wires the store, watch hub, registry, controllers and gRPC server.
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/api_metrics.h"
#include "common/flags.h"
#include "common/grpc_runtime.h"
#include "common/keepalive.h"
#include "common/logger.h"
#include "common/malformed_requests.h"
#include "common/metrics_endpoint.h"
#include "common/tls.h"
#include "common/version.h"
#include "controller/agent_service.h"
#include "controller/authorizer.h"
#include "controller/container_policy.h"
#include "controller/control_plane.h"
#include "controller/controller_service.h"
#include "controller/election/leadership.h"
#include "controller/operations_proxy.h"
#include "controller/runtime_metrics.h"
#include "controller/state_metrics.h"
#include "controller/store/etcd_store.h"
#include "controller/store/measured_store.h"
#include "controller/store/sqlite_store.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"

ABSL_FLAG(std::string, log_format, "text",
          "how log lines on stderr read: text (TIME LEVEL component: message) or json (one object a line: time, "
          "level, component, msg)");
ABSL_FLAG(int, v, 0, "verbosity: 1 adds debug lines, 2 also one for every reconcile pass");
ABSL_FLAG(std::string, listen, "127.0.0.1:7070", "address to serve gRPC on (port 0: any free port)");
ABSL_FLAG(std::string, store, "sqlite",
          "where the state lives: sqlite (embedded, in --data-dir: one controller) or etcd (--etcd-endpoints: any "
          "number of controllers, one elected leader)");
ABSL_FLAG(std::string, data_dir, "/var/lib/opctl", "directory of the durable store (--store sqlite)");
ABSL_FLAG(std::string, etcd_endpoints, "", "etcd's client URLs, comma-separated (--store etcd)");
ABSL_FLAG(std::string, etcd_ca, "", "the CA of etcd's certificates (PEM)");
ABSL_FLAG(std::string, etcd_cert, "", "the client certificate shown to etcd (PEM)");
ABSL_FLAG(std::string, etcd_key, "", "its private key (PEM)");
ABSL_FLAG(std::string, etcd_prefix, "/opctl", "the keys opctl keeps in etcd start with this");
ABSL_FLAG(int, etcd_max_txn_ops, 128, "etcd's --max-txn-ops: a change needing more is refused whole");
ABSL_FLAG(int64_t, history_revisions, 10000, "revisions of history kept for watches to resume from");
ABSL_FLAG(absl::Duration, bookmark_interval, absl::Seconds(5), "how often idle watches get a BOOKMARK");
ABSL_FLAG(int64_t, max_message_bytes, 16 << 20, "largest request accepted");
ABSL_FLAG(std::string, tls_cert, "", "the controller's TLS certificate (PEM; scripts/gen-certs.sh makes one)");
ABSL_FLAG(std::string, tls_key, "", "its private key (PEM)");
ABSL_FLAG(std::string, tls_client_ca, "", "the CA that signs agents' client certificates (PEM)");
ABSL_FLAG(std::string, tokens, "", "token,user,role lines (view, edit, admin) for people and tools");
ABSL_FLAG(bool, insecure, false, "serve plaintext gRPC with no authentication: anyone who reaches the port is admin");
ABSL_FLAG(std::string, policy, "",
          "YAML file of what containers may do beyond the safe defaults (privileged, capabilities, host "
          "network and PID, host path roots); empty: nothing beyond them");
ABSL_FLAG(int, max_watches_per_caller, 1024,
          "watch streams one caller (a user's token, an agent's certificate) may hold open at once, over all its "
          "connections");
ABSL_FLAG(int64_t, max_watch_backlog_bytes, 64 << 20,
          "a watcher this many bytes of events behind is cut off and must list again");
ABSL_FLAG(absl::Duration, stream_write_timeout, absl::Seconds(60),
          "a log or backup stream whose caller takes no data for this long is cut off");
ABSL_FLAG(int, max_operation_streams, 256, "log, backup and restore streams the controller runs at once");
ABSL_FLAG(bool, reflection, false, "serve gRPC server reflection (grpcurl list), which needs no credentials");
ABSL_FLAG(absl::Duration, silent_node_settle, absl::Seconds(1),
          "how long the movable containers of a node that went silent wait after it turns NotReady before "
          "they start elsewhere (time for its agent's fence to remove them); a fence guard's report skips it");
ABSL_FLAG(absl::Duration, event_ttl, absl::Hours(1), "an Event goes this long after it last happened");
ABSL_FLAG(int, max_events, 10000, "Events kept at most; beyond it the ones last seen longest ago go first");
constexpr char kDefaultMetricsListen[] = "127.0.0.1:7081";
ABSL_FLAG(std::string, metrics_listen, kDefaultMetricsListen,
          "address of the Prometheus endpoint (GET /metrics), apart from the gRPC port, or several as "
          "IP:PORT,IP:PORT; empty: none. If the default is taken (another controller on this host), the "
          "controller says so and serves without");
ABSL_FLAG(absl::Duration, node_grace, absl::Milliseconds(2500),
          "a node without heartbeat for this long is NotReady (checked every grace/25, so a dead agent is noticed "
          "within grace*1.04 of its last heartbeat)");

namespace opctl::controller {
namespace {

// The --policy file, and the trees a container may never mount: the store, the certificates.
absl::StatusOr<ContainerPolicy> LoadPolicy() {
  ContainerPolicy policy;
  if (!absl::GetFlag(FLAGS_policy).empty()) {
    absl::StatusOr<ContainerPolicy> loaded = ContainerPolicy::Load(absl::GetFlag(FLAGS_policy));
    if (!loaded.ok()) return loaded.status();
    policy = *std::move(loaded);
  }
  // The controller's own data and credentials are never a container's to mount.
  policy.protected_trees.push_back(
      {std::filesystem::absolute(absl::GetFlag(FLAGS_data_dir)).string(), "the controller's store"});
  for (const std::string& file : {absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key),
                                  absl::GetFlag(FLAGS_tls_client_ca), absl::GetFlag(FLAGS_tokens)}) {
    if (!file.empty()) {
      policy.protected_trees.push_back({std::filesystem::absolute(file).parent_path().string(),
                                        "where the controller's certificates and tokens are"});
    }
  }
  if (absl::Status roots = policy.CheckRoots(); !roots.ok()) return roots;
  return policy;
}

struct Security {
  std::shared_ptr<grpc::ServerCredentials> credentials = grpc::InsecureServerCredentials();
  Authorizer authorizer = Authorizer::AllowAll();
  TlsFiles agent_tls;  // toward agents: trust the CA that signs them, show the controller's certificate
};

// TLS with authentication unless plaintext is asked for by name.
absl::StatusOr<Security> LoadSecurity() {
  Security security;
  if (absl::GetFlag(FLAGS_insecure)) {
    Logger::Stderr().Warn("opctl-controller", "--insecure: plaintext, and every caller may do everything");
    return security;
  }
  TlsFiles files{absl::GetFlag(FLAGS_tls_client_ca), absl::GetFlag(FLAGS_tls_cert), absl::GetFlag(FLAGS_tls_key)};
  if (files.cert.empty() || files.key.empty() || files.ca.empty()) {
    return absl::InvalidArgumentError(
        "give --tls-cert, --tls-key and --tls-client-ca (scripts/gen-certs.sh DIR makes them) and --tokens, or "
        "--insecure for plaintext without authentication");
  }
  absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> tls = TlsServerCredentials(files);
  if (!tls.ok()) return tls.status();
  absl::StatusOr<Authorizer> loaded = Authorizer::Load(absl::GetFlag(FLAGS_tokens));
  if (!loaded.ok()) return loaded.status();
  security.credentials = *std::move(tls);
  security.authorizer = *std::move(loaded);
  security.agent_tls = files;
  return security;
}

// The gRPC server with every service, or null when it cannot listen; `port` is where it does.
std::unique_ptr<grpc::Server> StartServer(const std::vector<grpc::Service*>& services,
                                          std::shared_ptr<grpc::ServerCredentials> credentials, ApiMetrics* metrics,
                                          int* port) {
  grpc::EnableDefaultHealthCheckService(true);
  // Reflection lists the API to anyone who connects, before any check: only when asked for.
  if (absl::GetFlag(FLAGS_reflection)) grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  AddKeepaliveArguments(builder);
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors =
      MalformedRequestInterceptors();
  if (metrics != nullptr) interceptors.push_back(metrics->InterceptorFactory());  // sees the final status
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  builder.AddListeningPort(absl::GetFlag(FLAGS_listen), credentials, port);
  // A second controller on a taken port must fail, not share it through SO_REUSEPORT.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  builder.SetMaxReceiveMessageSize(static_cast<int>(absl::GetFlag(FLAGS_max_message_bytes)));
  for (grpc::Service* service : services) builder.RegisterService(service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  return server != nullptr && *port != 0 ? std::move(server) : nullptr;
}

ControlPlaneOptions PlaneOptionsFromFlags(bool elected) {
  return {.elected = elected,
          .bookmark_interval = absl::GetFlag(FLAGS_bookmark_interval),
          .silent_node_settle = absl::GetFlag(FLAGS_silent_node_settle),
          .node_grace = absl::GetFlag(FLAGS_node_grace),
          .history_revisions = absl::GetFlag(FLAGS_history_revisions),
          .events = {.ttl = absl::GetFlag(FLAGS_event_ttl),
                     .max_events = static_cast<size_t>(std::max(1, absl::GetFlag(FLAGS_max_events)))}};
}

int Fail(const std::string& message, int exit_code) {
  Logger::Stderr().Error("opctl-controller", message);
  return exit_code;
}

// The --metrics-listen endpoint and what it serves; without an endpoint, nothing (api() is null).
struct ControllerMetrics {
  std::unique_ptr<MetricsEndpoint> endpoint;
  std::optional<ApiMetrics> api_metrics;  // the server's interceptors hold it: never moved
  std::shared_ptr<StateMetrics> state;
  std::shared_ptr<RuntimeMetrics> runtime;
  ApiMetrics* api() { return api_metrics ? &*api_metrics : nullptr; }
};

absl::StatusOr<std::unique_ptr<ControllerMetrics>> StartMetrics(ControlPlane& plane, const ControllerService& service,
                                                                const MeasuredStore& store) {
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint =
      MetricsEndpoint::StartForFlag(absl::GetFlag(FLAGS_metrics_listen), kDefaultMetricsListen, "opctl-controller");
  if (!endpoint.ok()) return endpoint.status();
  auto metrics = std::make_unique<ControllerMetrics>();
  metrics->endpoint = *std::move(endpoint);
  if (metrics->endpoint == nullptr) return metrics;
  metrics->api_metrics.emplace(metrics->endpoint->registry(), "opctl_api");
  metrics->state = std::make_shared<StateMetrics>(plane.registry(), store);
  metrics->endpoint->Add(metrics->state);
  metrics->runtime = std::make_shared<RuntimeMetrics>(plane.manager(), service.watch_stats(), store, plane.events());
  metrics->endpoint->Add(metrics->runtime);
  return metrics;
}

// SIGTERM and SIGINT, blocked: taken synchronously by this thread (sigwait); every thread started
// later inherits the mask.
sigset_t BlockStopSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

// The --store: SQLite in --data-dir, or etcd (waits until a member answers, saying why it does not).
absl::StatusOr<std::unique_ptr<Store>> OpenStore(std::string* described) {
  std::string kind = absl::GetFlag(FLAGS_store);
  if (kind == "sqlite") {
    SqliteStoreOptions options;
    options.history_revisions = absl::GetFlag(FLAGS_history_revisions);
    *described = absl::GetFlag(FLAGS_data_dir);
    return SqliteStore::Open(absl::GetFlag(FLAGS_data_dir), options);
  }
  if (kind != "etcd") return absl::InvalidArgumentError(absl::StrCat("--store ", kind, ": sqlite or etcd"));
  absl::StatusOr<std::vector<std::string>> endpoints = ParseEtcdEndpoints(absl::GetFlag(FLAGS_etcd_endpoints));
  if (!endpoints.ok())
    return absl::InvalidArgumentError(absl::StrCat("--etcd-endpoints: ", endpoints.status().message()));
  EtcdStoreOptions options;
  options.etcd.endpoints = *endpoints;
  options.etcd.ca_file = absl::GetFlag(FLAGS_etcd_ca);
  options.etcd.cert_file = absl::GetFlag(FLAGS_etcd_cert);
  options.etcd.key_file = absl::GetFlag(FLAGS_etcd_key);
  options.etcd.max_txn_ops = absl::GetFlag(FLAGS_etcd_max_txn_ops);
  options.prefix = absl::GetFlag(FLAGS_etcd_prefix) + "/store";
  options.history_revisions = absl::GetFlag(FLAGS_history_revisions);
  *described = absl::StrCat("etcd ", absl::GetFlag(FLAGS_etcd_endpoints));
  return EtcdStore::Open(options);
}

int Run() {
  sigset_t signals = BlockStopSignals();
  if (absl::Status logs = ConfigureStderrLogger(absl::GetFlag(FLAGS_log_format), absl::GetFlag(FLAGS_v)); !logs.ok()) {
    return Fail(std::string(logs.message()), 2);
  }

  std::string store_name;
  absl::StatusOr<std::unique_ptr<Store>> store = OpenStore(&store_name);
  if (!store.ok()) return Fail(store.status().ToString(), absl::IsInvalidArgument(store.status()) ? 2 : 1);
  absl::StatusOr<ContainerPolicy> policy = LoadPolicy();
  if (!policy.ok()) return Fail(absl::StrCat("--policy: ", policy.status().message()), 2);
  auto* etcd = dynamic_cast<EtcdStore*>(store->get());
  absl::StatusOr<Security> security = LoadSecurity();
  if (!security.ok()) return Fail(std::string(security.status().message()), 2);
  MeasuredStore measured(**store);
  ControlPlane plane(measured, *std::move(policy), PlaneOptionsFromFlags(etcd != nullptr));
  if (absl::Status started = plane.Start(); !started.ok()) return Fail(started.ToString(), 1);

  ControllerServiceOptions service_options;
  service_options.max_watches_per_caller = absl::GetFlag(FLAGS_max_watches_per_caller);
  service_options.max_watch_backlog_bytes = static_cast<size_t>(absl::GetFlag(FLAGS_max_watch_backlog_bytes));
  ControllerService service(plane.registry(), plane.hub(), security->authorizer, service_options);
  AgentService agent_service(plane.registry(), plane.node_monitor(), plane.controllers().placement(),
                             security->authorizer, plane.events());
  OperationsProxy operations(plane.registry(), security->authorizer, security->agent_tls,
                             absl::GetFlag(FLAGS_max_operation_streams), absl::GetFlag(FLAGS_stream_write_timeout));
  absl::StatusOr<std::unique_ptr<ControllerMetrics>> metrics = StartMetrics(plane, service, measured);
  if (!metrics.ok())
    return Fail(absl::StrCat("--metrics-listen: ", metrics.status().message()),
                absl::IsInvalidArgument(metrics.status()) ? 2 : 1);
  int port = 0;
  std::unique_ptr<grpc::Server> server =
      StartServer({&service, &agent_service, &operations}, security->credentials, (*metrics)->api(), &port);
  if (server == nullptr) return Fail(absl::StrCat("cannot listen on ", absl::GetFlag(FLAGS_listen)), 1);
  std::string listen = absl::GetFlag(FLAGS_listen);
  std::string host = listen.substr(0, listen.rfind(':'));
  std::string identity = absl::StrCat(host, ":", port);
  SingleController alone(identity, store_name);
  std::unique_ptr<Leadership> leadership;  // destroyed first: resigns before the loops stop
  if (etcd) {
    leadership = std::make_unique<Leadership>(
        etcd->client(), plane.fenced(), plane.manager(), plane.node_monitor(), server->GetHealthCheckService(),
        LeadershipOptions{.identity = identity, .store = store_name, .prefix = absl::GetFlag(FLAGS_etcd_prefix)});
    leadership->Start();
  }
  service.SetControlPlaneView(leadership ? static_cast<const ControlPlaneView*>(leadership.get()) : &alone);
  // Tests and scripts read this line to learn the port.
  std::printf("opctl-controller: serving on %s:%d (store %s, revision %lld)\n", host.c_str(), port, store_name.c_str(),
              static_cast<long long>((*store)->Revision()));
  std::fflush(stdout);

  int signal = 0;
  sigwait(&signals, &signal);
  std::printf("opctl-controller: signal %d, stopping\n", signal);
  std::fflush(stdout);
  // Finish in-flight calls (and their durable writes) for a moment, then cancel watches.
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
  return 0;
}

}  // namespace
}  // namespace opctl::controller

int main(int argc, char** argv) {
  opctl::GrpcRuntime grpc;  // outlives the server and every channel
  absl::SetProgramUsageMessage("opctl-controller --listen 127.0.0.1:7070 --data-dir DIR");
  absl::FlagsUsageConfig usage_config;
  usage_config.version_string = [] { return "opctl-controller " + opctl::OpctlVersion() + "\n"; };
  // --help lists the flags of this main.cc (absl's default looks for opctl-controller.cc).
  usage_config.contains_helpshort_flags = [](absl::string_view file) { return absl::EndsWith(file, "/main.cc"); };
  usage_config.contains_help_flags = usage_config.contains_helpshort_flags;
  absl::SetFlagsUsageConfig(usage_config);
  std::vector<std::string> arguments = opctl::NormalizeFlagNames(argc, argv);
  std::vector<char*> normalized = opctl::ArgvOf(arguments);
  absl::ParseCommandLine(static_cast<int>(arguments.size()), normalized.data());
  return opctl::controller::Run();
}
