#include "controller/scheduler.h"

#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/conditions.h"
#include "common/quantity.h"

namespace opctl::controller {
namespace {

struct Demand {
  int64_t memory_bytes = 0;  // reserved on the node
  int64_t milli_cpus = 0;    // a limit: must not exceed the node's CPUs
};

// What a container asks of its node: its reservation (or, without one, its limit) and its CPUs.
Demand DemandOf(const v1::Container& container) {
  const v1::Resources& resources = container.spec().template_().resources();
  Demand demand;
  const std::string& memory =
      resources.memory_reservation().empty() ? resources.memory_limit() : resources.memory_reservation();
  if (absl::StatusOr<int64_t> bytes = ParseMemoryBytes(memory); bytes.ok() && !memory.empty())
    demand.memory_bytes = *bytes;
  if (absl::StatusOr<int64_t> milli = ParseMilliCpus(resources.cpus()); milli.ok() && !resources.cpus().empty()) {
    demand.milli_cpus = *milli;
  }
  return demand;
}

}  // namespace

bool NodeIsReady(const v1::Node& node) { return ConditionStatus(node.status().conditions(), "Ready") == "True"; }

absl::StatusOr<std::string> ChooseNode(const v1::Container& container, const std::vector<v1::Node>& nodes,
                                       const std::vector<v1::Container>& bound) {
  struct Usage {
    Demand used;
    int same_service = 0;
  };
  std::map<std::string, Usage> usage;
  for (const v1::Container& other : bound) {
    if (other.metadata().name() == container.metadata().name()) continue;
    Usage& on_node = usage[other.spec().node_name()];
    Demand demand = DemandOf(other);
    on_node.used.memory_bytes += demand.memory_bytes;
    if (other.spec().service() == container.spec().service()) ++on_node.same_service;
  }
  if (nodes.empty()) {
    return absl::FailedPreconditionError("no node is registered yet: start opctl-agent on a Docker host");
  }
  Demand demand = DemandOf(container);
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
    const Usage& on_node = usage[node.metadata().name()];
    int64_t free_memory = node.status().capacity().memory_bytes() - on_node.used.memory_bytes;
    if (demand.memory_bytes > free_memory) {
      ++ruled_out[absl::StrCat("short of memory (needs ", FormatMemoryBytes(demand.memory_bytes), ")")];
      continue;
    }
    // cpus is a limit (Docker's NanoCpus), not a reservation: it must fit the node, not the node's remainder.
    if (demand.milli_cpus > node.status().capacity().milli_cpus()) {
      ++ruled_out[absl::StrCat("with fewer CPUs than its limit (", demand.milli_cpus, "m)")];
      continue;
    }
    std::tuple<int, int64_t, std::string> rank{on_node.same_service, -free_memory, node.metadata().name()};
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
