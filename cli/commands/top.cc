// opctl top containers [-l SELECTOR] [--stack S] | opctl top nodes
// What running containers use, as `docker stats --no-stream` prints it, sampled by the agents of
// their nodes through the controller; per node, the sums of opctl's containers against the node's
// capacity, as `kubectl top nodes`. A node that did not answer is named on stderr (exit 1 when none did).
#include <cstdio>
#include <map>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "cli/commands/commands.h"
#include "cli/output.h"
#include "common/api_names.h"

namespace opctl::cli {
namespace {

// Bytes as docker stats shows them: 1.5MiB for memory, 12.3kB for I/O.
std::string Binary(int64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) value /= 1024, ++unit;
  return unit == 0 ? absl::StrCat(bytes, "B") : absl::StrFormat("%.4g%s", value, units[unit]);
}

std::string Decimal(int64_t bytes) {
  const char* units[] = {"B", "kB", "MB", "GB", "TB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1000 && unit < 4) value /= 1000, ++unit;
  return unit == 0 ? absl::StrCat(bytes, "B") : absl::StrFormat("%.3g%s", value, units[unit]);
}

std::string Percent(double part, double whole) {
  return whole <= 0 ? "-" : absl::StrFormat("%.2f%%", part / whole * 100);
}

void PrintContainers(CommandContext& context, const v1::TopResponse& top) {
  std::vector<std::vector<std::string>> rows = {
      {"NAME", "NODE", "CPU %", "MEM USAGE / LIMIT", "MEM %", "NET I/O", "BLOCK I/O", "PIDS"}};
  for (const v1::ContainerUsage& usage : top.containers()) {
    rows.push_back({usage.container(), usage.node_name(), absl::StrFormat("%.2f%%", usage.cpu_percent()),
                    Binary(usage.memory_bytes()) + " / " + Binary(usage.memory_limit_bytes()),
                    Percent(static_cast<double>(usage.memory_bytes()), static_cast<double>(usage.memory_limit_bytes())),
                    Decimal(usage.network_rx_bytes()) + " / " + Decimal(usage.network_tx_bytes()),
                    Decimal(usage.block_read_bytes()) + " / " + Decimal(usage.block_write_bytes()),
                    absl::StrCat(usage.pids())});
  }
  context.out << FormatRows(rows);
}

// Sums per node; nodes that answered with no running container show zeros.
int PrintNodes(CommandContext& context, const v1::TopResponse& top) {
  v1::ListRequest list;
  list.set_kind(kKindNode);
  v1::ListResponse nodes;
  if (grpc::Status listed = context.client.List(list, &nodes); !listed.ok()) {
    return Fail(context, context.client.Explain(listed));
  }
  struct Sum {
    double cpu_percent = 0;
    int64_t memory = 0;
    int containers = 0;
  };
  std::map<std::string, Sum> sums;
  for (const v1::ContainerUsage& usage : top.containers()) {
    Sum& sum = sums[usage.node_name()];
    sum.cpu_percent += usage.cpu_percent();
    sum.memory += usage.memory_bytes();
    ++sum.containers;
  }
  std::set<std::string> silent;
  for (const std::string& failure : top.unavailable()) silent.insert(failure.substr(0, failure.find(':')));
  std::vector<std::vector<std::string>> rows = {{"NAME", "CPU(cores)", "CPU%", "MEMORY", "MEMORY%", "CONTAINERS"}};
  for (const v1::Object& object : nodes.items()) {
    const v1::Node& node = object.node();
    const std::string& name = node.metadata().name();
    if (silent.count(name) > 0) {
      rows.push_back({name, "<unknown>", "<unknown>", "<unknown>", "<unknown>", "<unknown>"});
      continue;
    }
    const Sum& sum = sums[name];
    const v1::NodeCapacity& capacity = node.status().capacity();
    rows.push_back({name, absl::StrCat(static_cast<int64_t>(sum.cpu_percent * 10), "m"),
                    Percent(sum.cpu_percent * 10, static_cast<double>(capacity.milli_cpus())), Binary(sum.memory),
                    Percent(static_cast<double>(sum.memory), static_cast<double>(capacity.memory_bytes())),
                    absl::StrCat(sum.containers)});
  }
  context.out << FormatRows(rows);
  return 0;
}

// The Containers a selector or stack picks, by name; nullopt when neither was given.
absl::StatusOr<std::optional<std::vector<std::string>>> Picked(CommandContext& context) {
  if (!context.arguments.Has("selector") && !context.arguments.Has("stack")) return std::nullopt;
  v1::ListRequest list;
  list.set_kind(kKindContainer);
  list.set_label_selector(context.arguments.Get("selector"));
  list.set_stack(context.arguments.Get("stack"));
  v1::ListResponse containers;
  if (grpc::Status listed = context.client.List(list, &containers); !listed.ok()) {
    return absl::UnavailableError(context.client.Explain(listed));
  }
  std::vector<std::string> names;
  for (const v1::Object& object : containers.items()) names.push_back(object.container().metadata().name());
  return names;
}

}  // namespace

int RunTop(CommandContext& context) {
  const std::vector<std::string>& words = context.arguments.positional();
  std::string what = words.empty() ? "" : words[0];
  if (what == "container" || what == "ctr") what = "containers";
  if (what == "node" || what == "no") what = "nodes";
  if (words.size() != 1 || (what != "containers" && what != "nodes")) {
    return Fail(context, "top takes containers or nodes: opctl top containers [-l SELECTOR] [--stack S]", 2);
  }
  v1::TopRequest request;
  absl::StatusOr<std::optional<std::vector<std::string>>> picked = Picked(context);
  if (!picked.ok()) return Fail(context, std::string(picked.status().message()));
  if (what == "nodes" && picked->has_value()) return Fail(context, "top nodes takes no selector or stack", 2);
  if (picked->has_value()) {
    if ((*picked)->empty()) {
      context.err << "No containers found.\n";
      return 0;
    }
    request.mutable_containers()->Assign((*picked)->begin(), (*picked)->end());
  }
  v1::TopResponse top;
  if (grpc::Status answered = context.client.Top(request, &top); !answered.ok()) {
    return Fail(context, context.client.Explain(answered));
  }
  for (const std::string& failure : top.unavailable()) context.err << "opctl: no usage from node " << failure << "\n";
  int printed = what == "nodes" ? PrintNodes(context, top) : (PrintContainers(context, top), 0);
  return printed != 0 || (top.containers().empty() && !top.unavailable().empty()) ? 1 : 0;
}

}  // namespace opctl::cli
