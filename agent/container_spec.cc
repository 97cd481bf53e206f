#include "agent/container_spec.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/api_names.h"
#include "common/log_driver.h"
#include "common/object.h"
#include "common/quantity.h"
#include "common/shell_quote.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace opctl::agent {
namespace {

int64_t Nanoseconds(const std::string& duration) {
  if (duration.empty()) return 0;
  absl::StatusOr<absl::Duration> parsed = ParseDuration(duration);
  return parsed.ok() ? absl::ToInt64Nanoseconds(*parsed) : 0;
}

}  // namespace

std::map<std::string, std::string> ManagedLabels(const std::string& node) {
  return {{kManagedByLabel, kManagedByValue}, {kNodeLabel, node}};
}

std::map<std::string, std::string> ObjectLabels(const std::string& node, const std::string& kind,
                                                const v1::ObjectMeta& meta) {
  std::map<std::string, std::string> labels = ManagedLabels(node);
  labels[kKindLabel] = kind;
  labels[kNameLabel] = meta.name();
  labels[kUidLabel] = meta.uid();
  if (!meta.stack().empty()) labels[kStackLabel] = meta.stack();
  return labels;
}

std::string SpecHash(const v1::ContainerSpec& spec) {
  v1::ContainerSpec shaping = spec;
  shaping.clear_node_name();
  shaping.clear_node_selector();
  shaping.clear_evicting();
  std::string bytes;
  {
    // Deterministic: map fields (env labels) serialize in key order, so the hash is stable across runs.
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    shaping.SerializeToCodedStream(&coded);
  }
  uint64_t hash = 1469598103934665603ULL;  // FNV-1a
  for (unsigned char byte : bytes) {
    hash ^= byte;
    hash *= 1099511628211ULL;
  }
  return absl::StrFormat("%016x", hash);
}

namespace {

// Memory and CPU limits, in Docker's units.
absl::Status SetResources(const v1::Resources& resources, DockerContainerSpec& spec) {
  if (!resources.memory_limit().empty()) {
    absl::StatusOr<int64_t> bytes = ParseMemoryBytes(resources.memory_limit());
    if (!bytes.ok()) return bytes.status();
    spec.memory_bytes = *bytes;
  }
  if (!resources.memory_reservation().empty()) {
    absl::StatusOr<int64_t> bytes = ParseMemoryBytes(resources.memory_reservation());
    if (!bytes.ok()) return bytes.status();
    spec.memory_reservation_bytes = *bytes;
  }
  if (!resources.cpus().empty()) {
    absl::StatusOr<int64_t> milli = ParseMilliCpus(resources.cpus());
    if (!milli.ok()) return milli.status();
    spec.nano_cpus = *milli * 1'000'000;
  }
  spec.pids_limit = resources.pids_limit() == 0 ? kDefaultPidsLimit : resources.pids_limit();
  return absl::OkStatus();
}

// What the kernel and Docker allow it, and what of the host it shares.
// The driver and its options; json-file and local rotate, by default at 10m with 3 files kept.
absl::Status SetLogs(const v1::LogOptions& logs, DockerContainerSpec& spec) {
  spec.log_driver = LogDriverOf(logs);
  spec.log_options.insert(logs.options().begin(), logs.options().end());
  if (!LogDriverRotates(spec.log_driver)) return absl::OkStatus();
  spec.log_max_bytes = kDefaultLogMaxBytes;
  spec.log_max_files = logs.max_files() > 0 ? logs.max_files() : kDefaultLogMaxFiles;
  if (!logs.max_size().empty()) {
    absl::StatusOr<int64_t> bytes = ParseMemoryBytes(logs.max_size());
    if (!bytes.ok()) return bytes.status();
    spec.log_max_bytes = *bytes;
  }
  return absl::OkStatus();
}

void SetSecurity(const v1::ContainerTemplate& t, DockerContainerSpec& spec) {
  const v1::SecurityContext& security = t.security_context();
  spec.no_new_privileges = !security.allow_privilege_escalation();
  spec.privileged = security.privileged();
  spec.cap_add.assign(security.capabilities().add().begin(), security.capabilities().add().end());
  spec.cap_drop.assign(security.capabilities().drop().begin(), security.capabilities().drop().end());
  spec.read_only_root_filesystem = security.read_only_root_filesystem();
  spec.host_network = t.host_network();
  spec.host_pid = t.host_pid();
}

// Its own labels, the pre-stop hook, and the agent's labels that say whose it is and which spec.
void SetLabels(const v1::Container& container, const std::string& node, DockerContainerSpec& spec) {
  const v1::ContainerTemplate& t = container.spec().template_();
  spec.labels.insert(t.labels().begin(), t.labels().end());
  // The pre-stop hook travels as a label, where an image may also declare one; the manifest's wins.
  if (t.lifecycle().pre_stop().exec().command_size() > 0) {
    std::vector<std::string> words;
    for (const std::string& word : t.lifecycle().pre_stop().exec().command()) words.push_back(ShellQuote(word));
    spec.labels[kPreStopCommandLabel] = absl::StrJoin(words, " ");
  }
  for (auto& [key, value] : ObjectLabels(node, kKindContainer, container.metadata())) spec.labels[key] = value;
  spec.labels[kSpecHashLabel] = SpecHash(container.spec());
  if (MovesOnNodeLoss(container)) spec.labels[kMovesOnNodeLossLabel] = "true";
}

}  // namespace

absl::StatusOr<DockerContainerSpec> ToDockerSpec(const v1::Container& container, const std::string& node) {
  const v1::ContainerTemplate& t = container.spec().template_();
  DockerContainerSpec spec;
  spec.image = t.image();
  spec.entrypoint.assign(t.command().begin(), t.command().end());
  spec.cmd.assign(t.args().begin(), t.args().end());
  for (const v1::EnvVar& env : t.env()) spec.env.push_back(absl::StrCat(env.name(), "=", env.value()));
  spec.user = t.user();
  spec.working_dir = t.working_dir();
  SetLabels(container, node, spec);
  if (absl::Status resources = SetResources(t.resources(), spec); !resources.ok()) return resources;
  if (t.has_healthcheck()) {
    DockerHealthCheck health;
    health.test.assign(t.healthcheck().test().begin(), t.healthcheck().test().end());
    health.interval_ns = Nanoseconds(t.healthcheck().interval());
    health.timeout_ns = Nanoseconds(t.healthcheck().timeout());
    health.start_period_ns = Nanoseconds(t.healthcheck().start_period());
    health.retries = t.healthcheck().retries();
    spec.healthcheck = health;
  }
  spec.restart_policy = t.restart_policy().empty() ? "unless-stopped" : t.restart_policy();
  for (const v1::VolumeMount& mount : t.volume_mounts()) {
    spec.mounts.push_back({mount.name(), mount.host_path(), mount.mount_path(), mount.read_only()});
    if (!mount.host_path().empty()) spec.restart_policy = "no";  // the agent restarts it, checking first
  }
  if (absl::Status logs = SetLogs(t.logs(), spec); !logs.ok()) return logs;
  SetSecurity(t, spec);
  for (const v1::PortMapping& port : t.ports()) {
    spec.ports.push_back({port.container_port(), port.protocol().empty() ? "tcp" : port.protocol(),
                          port.host_ip().empty() ? kDefaultHostIp : port.host_ip(),
                          port.host_port() == 0 ? port.container_port() : port.host_port()});
  }
  spec.network = container.spec().network().name();
  spec.ipv4_address = container.spec().network().ipv4_address();
  return spec;
}

}  // namespace opctl::agent
