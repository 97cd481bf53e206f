#include "cli/migrate/compose_fields.h"

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace opctl::cli::compose {
namespace {

const std::map<std::string, std::string>& UnmappedFields() {
  static const auto* fields = new std::map<std::string, std::string>{
      {"container_name", "opctl names containers NAME-ORDINAL"},
      {"depends_on", "opctl starts every Service at once and restarts what fails; gate on health checks instead"},
      {"expose", "not needed: containers on one Network reach every port"},
      {"hostname", "the container's hostname is its Docker id"},
      {"tmpfs", "no tmpfs mounts in opctl"},
      {"stop_grace_period", "the agent's --pre-stop-timeout applies"},
      {"stop_signal", "no stop signal in opctl"},
      {"sysctls", "no sysctls in opctl"},
      {"ulimits", "no ulimits in opctl"},
      {"dns", "Docker's own DNS is used"},
      {"extra_hosts", "no extra hosts in opctl"},
      {"links", "legacy links do not exist in opctl"},
      {"devices", "no devices in opctl"},
      {"init", "no init process in opctl"},
      {"shm_size", "no shm size in opctl"},
      {"cpu_shares", "use cpus"},
      {"cpuset", "no CPU pinning in opctl"},
      {"stdin_open", "opctl containers have no stdin"},
      {"tty", "opctl containers have no TTY"},
      {"secrets", "no Secrets in opctl yet"},
      {"configs", "no Configs in opctl yet"},
      {"volumes_from", "name the Volumes instead"},
      {"ipc", "no IPC namespace sharing in opctl"},
      {"mac_address", "opctl derives MAC addresses from IP addresses"},
      {"platform", "the node's platform is used"},
      {"pull_policy", "opctl runs images present on the node"},
      {"profiles", "every Service of the file is converted"},
  };
  return *fields;
}

// Each Service field, by prefix, and the compose keys (a.b: nested) it is made from.
const std::vector<std::pair<std::string, std::vector<std::string>>>& SourceKeys() {
  static const auto* keys = new std::vector<std::pair<std::string, std::vector<std::string>>>{
      {"spec.template.resources.memoryLimit", {"mem_limit", "deploy.resources.limits.memory"}},
      {"spec.template.resources.memoryReservation", {"mem_reservation", "deploy.resources.reservations.memory"}},
      {"spec.template.resources.cpus", {"cpus", "deploy.resources.limits.cpus"}},
      {"spec.template.resources.pidsLimit", {"pids_limit", "deploy.resources.limits.pids"}},
      {"spec.template.healthcheck", {"healthcheck"}},
      {"spec.template.ports", {"ports"}},
      {"spec.template.volumeMounts", {"volumes"}},
      {"spec.template.env", {"environment", "env_file"}},
      {"spec.template.image", {"image", "build"}},
      {"spec.template.user", {"user"}},
      {"spec.template.workingDir", {"working_dir"}},
      {"spec.template.command", {"entrypoint"}},
      {"spec.template.args", {"command"}},
      {"spec.template.logs", {"logging"}},
      {"spec.template.restartPolicy", {"restart", "deploy.restart_policy"}},
      {"spec.template.securityContext.capabilities.add", {"cap_add"}},
      {"spec.template.securityContext.capabilities.drop", {"cap_drop"}},
      {"spec.template.securityContext", {"privileged", "read_only", "security_opt"}},
      {"spec.network", {"networks"}},
      {"spec.additionalNetworks", {"networks"}},
      {"spec.replicas", {"deploy.replicas", "scale"}},
      {"spec.nodeSelector", {"deploy.placement"}},
      {"spec.placement", {"deploy.placement"}},
      {"metadata.labels", {"labels", "deploy.labels"}},
  };
  return *keys;
}

}  // namespace

std::optional<Located> ComposeValueOf(const std::vector<Located>& layers, const std::string& field) {
  for (const auto& [prefix, keys] : SourceKeys()) {
    if (!absl::StartsWith(field, prefix)) continue;
    for (auto layer = layers.rbegin(); layer != layers.rend(); ++layer) {
      for (const std::string& key : keys) {
        std::optional<Located> at = *layer;
        for (absl::string_view part : absl::StrSplit(key, '.')) at = at ? at->Child(std::string(part)) : at;
        if (at) return at;
      }
    }
    return std::nullopt;
  }
  return std::nullopt;
}

void CheckServiceFields(const std::string& name, const std::vector<Located>& layers, Reporter& report) {
  const std::string subject = "service/" + name;
  static const std::set<std::string> handled = {
      "image",       "build",  "command",      "entrypoint", "environment", "env_file",        "user",
      "working_dir", "ports",  "volumes",      "networks",   "mem_limit",   "mem_reservation", "cpus",
      "pids_limit",  "deploy", "healthcheck",  "restart",    "cap_add",     "cap_drop",        "privileged",
      "read_only",   "labels", "network_mode", "pid",        "logging",     "scale",           "security_opt"};
  for (const Located& layer : layers) {
    if (!layer.node.IsMap()) {
      report.Error(layer, subject, "must be a map of fields");
      continue;
    }
    for (const auto& entry : layer.node) {
      std::string key = entry.first.Scalar();
      Located at{entry.first, layer.file};
      if (handled.count(key) || absl::StartsWith(key, "x-")) continue;
      auto unmapped = UnmappedFields().find(key);
      if (unmapped != UnmappedFields().end()) {
        report.Warn(at, absl::StrCat(subject, " ", key), absl::StrCat("left out: ", unmapped->second));
      } else {
        report.Error(at, absl::StrCat(subject, " ", key), "is not a compose service field");
      }
    }
  }
}

}  // namespace opctl::cli::compose
