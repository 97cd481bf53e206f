// opctl-bench report: reads the JSON lines bench/run.sh collected (each tagged with bench, case and
// tool) and prints Markdown tables: medians with their spread, and opctl's ratios to its peers
// measured in the same run.
#include <algorithm>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace opctl::bench {
namespace {

using Json = nlohmann::json;

double Median(std::vector<double> values) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  size_t middle = values.size() / 2;
  return values.size() % 2 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

std::string Cell(const std::vector<double>& values) {
  if (values.empty()) return "-";
  if (std::any_of(values.begin(), values.end(), [](double v) { return v < 0; })) return "never";
  auto [low, high] = std::minmax_element(values.begin(), values.end());
  return absl::StrFormat("%.2f s (%.2f-%.2f, n=%d)", Median(values), *low, *high, static_cast<int>(values.size()));
}

std::string Ratio(const std::vector<double>& ours, const std::vector<double>& theirs) {
  double a = Median(ours), b = Median(theirs);
  if (a <= 0 || b <= 0) return "-";
  return absl::StrFormat("%.2fx", a / b);
}

using Cases = std::map<std::string, std::map<std::string, std::map<std::string, std::vector<double>>>>;

// What serving /metrics (scraped every second) costs at each control-plane case, and how many series
// it serves.
void PrintMetricsCost(Cases& cases, const std::vector<std::string>& case_order) {
  for (const std::string& key : case_order) {
    if (key.rfind("control-plane/", 0) != 0) continue;
    std::string name = key.substr(14);
    auto& tools = cases[name];
    if (tools.count("opctl") && tools["opctl"].count("metric_series")) {
      std::cout << "Metrics at " << name << ": " << absl::StrFormat("%.0f", Median(tools["opctl"]["metric_series"]))
                << " series, a scrape takes " << absl::StrFormat("%.1f", Median(tools["opctl"]["scrape_p50_ms"]))
                << " ms (p50).";
      if (tools.count("opctl, metrics off")) {
        auto& on = tools["opctl"];
        auto& off = tools["opctl, metrics off"];
        std::cout << " With metrics on / off: apply p99 "
                  << absl::StrFormat("%.2fx", Median(on["apply_p99_ms"]) / Median(off["apply_p99_ms"]))
                  << ", apply p50 "
                  << absl::StrFormat("%.2fx", Median(on["apply_p50_ms"]) / Median(off["apply_p50_ms"])) << ", converge "
                  << absl::StrFormat("%.2fx", Median(on["converge_s"]) / Median(off["converge_s"]));
      }
      std::cout << "\n";
    }
  }
}

// Apply latency while every agent floods Events, next to the same without.
void PrintEventFloodCost(Cases& cases, const std::vector<std::string>& case_order) {
  for (const std::string& key : case_order) {
    if (key.rfind("control-plane/", 0) != 0) continue;
    std::string name = key.substr(14);
    for (auto& [tool, m] : cases[name]) {
      if (!m.count("apply_flood_p99_ms")) continue;
      std::cout << "Events flood at " << name << (tool == "opctl" ? "" : ", " + tool) << ": "
                << absl::StrFormat("%.0f", Median(m["events_reported"])) << " occurrences reported; apply p50 / p99 "
                << absl::StrFormat("%.1f / %.1f ms", Median(m["apply_flood_p50_ms"]), Median(m["apply_flood_p99_ms"]))
                << " during the flood, "
                << absl::StrFormat("%.2fx", Median(m["apply_flood_p99_ms"]) / Median(m["apply_p99_ms"]))
                << " the p99 without.\n";
    }
  }
}

}  // namespace

int Report(const std::string& path) {
  std::ifstream file(path);
  // bench -> case -> tool -> metric -> values
  std::map<std::string, std::map<std::string, std::map<std::string, std::map<std::string, std::vector<double>>>>> data;
  std::vector<std::string> case_order;
  for (std::string line; std::getline(file, line);) {
    Json item = Json::parse(line, nullptr, false);
    if (item.is_discarded() || !item.is_object()) continue;
    std::string bench = item.value("bench", ""), name = item.value("case", ""), tool = item.value("tool", "");
    if (std::find(case_order.begin(), case_order.end(), bench + "/" + name) == case_order.end()) {
      case_order.push_back(bench + "/" + name);
    }
    for (const auto& [key, value] : item.items()) {
      if (value.is_number()) data[bench][name][tool][key].push_back(value.get<double>());
      if (value.is_array()) {
        for (const Json& sample : value) data[bench][name][tool][key].push_back(sample.get<double>());
      }
    }
  }

  auto converge_table = [&](const std::string& bench, const std::string& title) {
    if (!data.count(bench)) return;
    std::cout << "### " << title << "\n\n"
              << "| case | tool | command returned | all running | all healthy | healthy: opctl/compose | "
                 "healthy: opctl/raw |\n|---|---|---|---|---|---|---|\n";
    for (const std::string& key : case_order) {
      if (key.rfind(bench + "/", 0) != 0) continue;
      std::string name = key.substr(bench.size() + 1);
      auto& tools = data[bench][name];
      for (const char* tool : {"opctl", "compose", "raw"}) {
        if (!tools.count(tool)) continue;
        auto& metrics = tools[tool];
        std::cout << "| " << name << " | " << tool << " | " << Cell(metrics["command_s"]) << " | "
                  << Cell(metrics["running_s"]) << " | " << Cell(metrics["healthy_s"]) << " | "
                  << (std::string(tool) == "opctl" && tools.count("compose")
                          ? Ratio(metrics["healthy_s"], tools["compose"]["healthy_s"])
                          : "")
                  << " | "
                  << (std::string(tool) == "opctl" && tools.count("raw")
                          ? Ratio(metrics["healthy_s"], tools["raw"]["healthy_s"])
                          : "")
                  << " |\n";
      }
    }
    std::cout << "\n";
  };
  converge_table("converge", "1. Converge: the seed's Redis stack (6 containers)");
  converge_table("scale", "2. Scale: N containers of a small image on one host");

  if (data.count("heal")) {
    std::cout << "### 3. Heal: time until a broken container runs again\n\n"
              << "| case | tool | median | worst | n |\n|---|---|---|---|---|\n";
    for (const std::string& key : case_order) {
      if (key.rfind("heal/", 0) != 0) continue;
      std::string name = key.substr(5);
      for (auto& [tool, metrics] : data["heal"][name]) {
        std::vector<double>& samples = metrics["samples_s"];
        bool never = samples.empty() || std::any_of(samples.begin(), samples.end(), [](double v) { return v < 0; });
        std::cout << "| " << name << " | " << tool << " | "
                  << (never ? "does not heal (gave up after 10 s)" : absl::StrFormat("%.3f s", Median(samples)))
                  << " | "
                  << (never ? "-" : absl::StrFormat("%.3f s", *std::max_element(samples.begin(), samples.end())))
                  << " | " << samples.size() << " |\n";
      }
    }
    std::cout << "\n";
  }
  if (data.count("footprint")) {
    std::cout << "### 5. Agent footprint while idle\n\n| case | RSS avg | RSS max | CPU | window "
                 "|\n|---|---|---|---|---|\n";
    for (auto& [name, tools] : data["footprint"]) {
      for (auto& [tool, metrics] : tools) {
        std::cout << "| " << name << " | " << absl::StrFormat("%.1f MiB", Median(metrics["rss_mib_avg"])) << " | "
                  << absl::StrFormat("%.1f MiB", Median(metrics["rss_mib_max"])) << " | "
                  << absl::StrFormat("%.2f %%", Median(metrics["cpu_percent"])) << " | "
                  << absl::StrFormat("%.0f s", Median(metrics["seconds"])) << " |\n";
      }
    }
    std::cout << "\n";
  }
  if (data.count("control-plane")) {
    std::cout << "### 4. Control plane at scale (K simulated agents, M containers, one real controller)\n\n"
              << "| case | containers/s to Running | apply p50 / p99 | watch delivery p50 / p99 | memory per object | "
                 "memory per stream | restart | fsync floor |\n|---|---|---|---|---|---|---|---|\n";
    for (const std::string& key : case_order) {
      if (key.rfind("control-plane/", 0) != 0) continue;
      std::string name = key.substr(14);
      for (auto& [tool, m] : data["control-plane"][name]) {
        std::cout << "| " << name << (tool == "opctl" ? "" : ", " + tool) << " | "
                  << absl::StrFormat("%.0f", Median(m["containers_per_second"])) << " | "
                  << absl::StrFormat("%.1f / %.1f ms", Median(m["apply_p50_ms"]), Median(m["apply_p99_ms"])) << " | "
                  << absl::StrFormat("%.1f / %.1f ms", Median(m["watch_p50_ms"]), Median(m["watch_p99_ms"])) << " | "
                  << absl::StrFormat("%.1f KiB", Median(m["memory_per_object_kib"])) << " | "
                  << absl::StrFormat("%.1f KiB", Median(m["memory_per_stream_kib"])) << " | "
                  << absl::StrFormat("%.2f s", Median(m["restart_s"])) << " | "
                  << absl::StrFormat("%.2f ms", Median(m["fsync_ms"])) << " |\n";
      }
    }
    std::cout << "\n";
    PrintMetricsCost(data["control-plane"], case_order);
    PrintEventFloodCost(data["control-plane"], case_order);
    std::cout << "\n";
  }
  if (data.count("etcd-floor")) {
    for (auto& [name, tools] : data["etcd-floor"]) {
      for (auto& [tool, m] : tools) {
        std::cout << "etcd's own floor on the same members (`etcdctl " << name << "`): "
                  << absl::StrFormat("%.0f writes/s, slowest request %.0f ms", Median(m["writes_per_second"]),
                                     1000 * Median(m["slowest_s"]))
                  << ".\n\n";
      }
    }
  }
  if (data.count("failover")) {
    std::cout << "### 6. Controller failover on etcd (kill -9 of the leading controller)\n\n"
              << "| case | to the next acknowledged write p50 / max | to the first heal by the new leader p50 / max | "
                 "trials |\n|---|---|---|---|\n";
    for (auto& [name, tools] : data["failover"]) {
      for (auto& [tool, m] : tools) {
        std::cout << "| " << name << " | "
                  << absl::StrFormat("%.3f / %.3f s", Median(m["to_write_p50_s"]), Median(m["to_write_max_s"])) << " | "
                  << absl::StrFormat("%.2f / %.2f s", Median(m["to_heal_p50_s"]), Median(m["to_heal_max_s"])) << " | "
                  << absl::StrFormat("%.0f", Median(m["trials"])) << " |\n";
      }
    }
    std::cout << "\n";
  }
  return 0;
}

}  // namespace opctl::bench
