#include "cli/migrate/compose_fields.h"

#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

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

}  // namespace

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
