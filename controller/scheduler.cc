#include "controller/scheduler.h"

#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api_names.h"
#include "common/conditions.h"
#include "common/object.h"
#include "common/quantity.h"

namespace opctl::controller {
namespace {

// A CPU count is a limit (Docker's NanoCpus), not a reservation: it must fit the node, not its remainder.
int64_t MilliCpuLimitOf(const v1::Container& container) {
  const std::string& cpus = container.spec().template_().resources().cpus();
  absl::StatusOr<int64_t> milli = ParseMilliCpus(cpus);
  return milli.ok() && !cpus.empty() ? *milli : 0;
}

int CountOf(const std::map<std::string, int>& counts, const std::string& key) {
  auto found = counts.find(key);
  return found == counts.end() ? 0 : found->second;
}

// Why the container's placement (or that of a container already there) keeps it off a node holding
// `load`; empty when nothing does.
std::string PlacementConflict(const v1::Container& container, const NodeLoad& load) {
  const v1::Placement& placement = container.spec().placement();
  const std::string& service = container.spec().service();
  int limit = placement.max_replicas_per_node();
  if (limit > 0 && CountOf(load.per_service, service) >= limit) {
    return absl::StrCat("at maxReplicasPerNode (", limit, ")");
  }
  for (const std::string& other : placement.apart_from()) {
    if (CountOf(load.per_service, other) > 0) return absl::StrCat("running service/", other, " (apartFrom)");
  }
  if (CountOf(load.kept_apart, service) > 0) {
    return absl::StrCat("running a service kept apart from service/", service);
  }
  return "";
}

}  // namespace

void CountOnNode(const v1::Container& container, int sign, NodeLoads& loads) {
  const std::string& node = container.spec().node_name();
  if (node.empty()) return;
  NodeLoad& load = loads[node];
  load.memory_bytes += sign * MemoryReservationOf(container);
  load.containers += sign;
  auto add = [sign](std::map<std::string, int>& counts, const std::string& key) {
    if ((counts[key] += sign) == 0) counts.erase(key);
  };
  add(load.per_service, container.spec().service());
  for (const std::string& other : container.spec().placement().apart_from()) add(load.kept_apart, other);
  if (load.containers == 0) loads.erase(node);
}

NodeLoads LoadsOf(const std::vector<v1::Container>& containers) {
  NodeLoads loads;
  for (const v1::Container& container : containers) CountOnNode(container, 1, loads);
  return loads;
}

bool NodeIsReady(const v1::Node& node) { return ConditionStatus(node.status().conditions(), "Ready") == "True"; }

std::string ReadyReason(const v1::Node& node) {
  const v1::Condition* ready = FindCondition(node.status().conditions(), kConditionReady);
  return ready == nullptr ? "" : ready->reason();
}

absl::StatusOr<std::string> ChooseNode(const v1::Container& container, const std::vector<v1::Node>& nodes,
                                       const NodeLoads& loads) {
  if (nodes.empty()) {
    return absl::FailedPreconditionError("no node is registered yet: start opctl-agent on a Docker host");
  }
  const int64_t memory = MemoryReservationOf(container);
  const int64_t milli_cpus = MilliCpuLimitOf(container);
  const NodeLoad empty;
  std::map<std::string, int> ruled_out;
  const v1::Node* best = nullptr;
  std::tuple<int, int64_t, std::string> best_rank;
  for (const v1::Node& node : nodes) {
    if (!NodeIsReady(node)) {
      ++ruled_out["not ready"];
      continue;
    }
    if (node.spec().unschedulable()) {
      ++ruled_out["cordoned"];
      continue;
    }
    bool selected = true;
    for (const auto& [key, value] : container.spec().node_selector()) {
      auto label = node.metadata().labels().find(key);
      selected &= label != node.metadata().labels().end() && label->second == value;
    }
    if (!selected) {
      ++ruled_out["not matching the node selector"];
      continue;
    }
    auto found = loads.find(node.metadata().name());
    const NodeLoad& load = found == loads.end() ? empty : found->second;
    int64_t free_memory = node.status().capacity().memory_bytes() - load.memory_bytes;
    if (memory > free_memory) {
      ++ruled_out[absl::StrCat("short of memory (needs ", FormatMemoryBytes(memory), ")")];
      continue;
    }
    if (milli_cpus > node.status().capacity().milli_cpus()) {
      ++ruled_out[absl::StrCat("with fewer CPUs than its limit (", milli_cpus, "m)")];
      continue;
    }
    if (std::string conflict = PlacementConflict(container, load); !conflict.empty()) {
      ++ruled_out[conflict];
      continue;
    }
    int replicas_here = CountOf(load.per_service, container.spec().service());
    std::tuple<int, int64_t, std::string> rank{replicas_here, -free_memory, node.metadata().name()};
    if (best == nullptr || rank < best_rank) {
      best = &node;
      best_rank = rank;
    }
  }
  if (best != nullptr) return best->metadata().name();
  std::vector<std::string> reasons;
  for (const auto& [reason, count] : ruled_out) reasons.push_back(absl::StrCat(count, " ", reason));
  return absl::FailedPreconditionError(
      absl::StrCat("0/", nodes.size(), " nodes can run it", reasons.empty() ? "" : ": ", absl::StrJoin(reasons, ", ")));
}

}  // namespace opctl::controller
