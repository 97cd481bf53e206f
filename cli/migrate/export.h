// `opctl export`: opctl objects (from manifests or from the controller) written as the files another
// tool runs: a compose file for Debian's docker-compose, a stack file for `docker stack deploy`, or
// Kubernetes objects. One file per stack; what the target cannot hold is a warning naming the object
// and field. Same objects in, same bytes out. Pure functions; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::cli {

enum class ExportTarget { kCompose, kSwarm, kKubernetes };
absl::StatusOr<ExportTarget> ParseExportTarget(absl::string_view name);

struct ExportedFile {
  std::string stack;
  std::string name;  // "redis.compose.yml", "redis.stack.yml", "redis.k8s.yaml"
  std::string text;
};

struct Exported {
  std::vector<ExportedFile> files;    // by stack name
  std::vector<std::string> warnings;  // "redis: service/redis-master lifecycle.preStop: what and why"
  std::vector<std::string> errors;    // nothing to export, or a stack asked for that is not there
};

// Networks, Volumes and Services are exported; Containers, Nodes and the per-replica Volumes the
// controller made for a Service are not (the target makes its own). `stack`: only that one.
Exported ExportObjects(const std::vector<v1::Object>& objects, ExportTarget target, const std::string& stack);

}  // namespace opctl::cli
