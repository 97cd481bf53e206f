#include "cli/output.h"

#include <yaml-cpp/yaml.h>

#include <nlohmann/json.hpp>
#include <set>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/event_table.h"
#include "common/api_names.h"
#include "common/clock.h"
#include "common/conditions.h"
#include "common/object.h"
#include "google/protobuf/util/json_util.h"

namespace opctl::cli {
namespace {

using Json = nlohmann::ordered_json;

Json ToJsonValue(const google::protobuf::Message& message) {
  std::string text;
  google::protobuf::util::JsonPrintOptions options;
  (void)google::protobuf::util::MessageToJsonString(message, &text, options);
  return Json::parse(text);
}

Json ToJsonValue(const v1::Object& object) { return ToJsonValue(Inner(object)); }

void EmitYaml(YAML::Emitter& out, const Json& value) {
  if (value.is_object()) {
    out << YAML::BeginMap;
    for (const auto& [key, item] : value.items()) {
      out << YAML::Key << key << YAML::Value;
      EmitYaml(out, item);
    }
    out << YAML::EndMap;
  } else if (value.is_array()) {
    out << YAML::BeginSeq;
    for (const Json& item : value) EmitYaml(out, item);
    out << YAML::EndSeq;
  } else if (value.is_string()) {
    // Quote what YAML would otherwise read back as a number, boolean or null.
    const std::string& text = value.get<std::string>();
    double number = 0;
    bool ambiguous = text.empty() || text == "true" || text == "false" || text == "null" || text == "~" ||
                     text == "yes" || text == "no" || absl::SimpleAtod(text, &number);
    if (ambiguous) out << YAML::DoubleQuoted;
    out << text;
  } else {
    out << value.dump();
  }
}

std::string Age(const v1::ObjectMeta& meta, absl::Time now) {
  absl::Time created = ParseTimestamp(meta.creation_timestamp());
  if (created == absl::InfinitePast()) return "<unknown>";
  return FormatAge(now - created);
}

std::string OrNone(const std::string& value) { return value.empty() ? "<none>" : value; }

// "every 1h, last ok 5m ago", "every 1h, last failed 2m ago", "every 1h, none yet" or "<none>".
std::string BackupSummary(const v1::Volume& volume, absl::Time now) {
  const std::string& schedule = volume.spec().backup().schedule();
  if (schedule.empty()) return "<none>";
  const v1::VolumeBackupRun& last = volume.status().last_backup();
  absl::Time started = ParseTimestamp(last.started_at());
  if (started == absl::InfinitePast()) return absl::StrCat("every ", schedule, ", none yet");
  return absl::StrCat("every ", schedule, ", last ", last.error().empty() ? "ok " : "failed ", FormatAge(now - started),
                      " ago");
}

std::string Labels(const google::protobuf::Map<std::string, std::string>& labels) {
  std::map<std::string, std::string> sorted(labels.begin(), labels.end());
  std::vector<std::string> parts;
  for (const auto& [key, value] : sorted) parts.push_back(absl::StrCat(key, "=", value));
  return parts.empty() ? "<none>" : absl::StrJoin(parts, ",");
}

}  // namespace

std::string ToJson(const v1::Object& object) { return ToJsonValue(object).dump(2); }

std::string ToJsonList(const std::vector<v1::Object>& objects) {
  Json list = Json::object();
  list["apiVersion"] = std::string(kApiVersion);
  list["kind"] = "List";
  list["items"] = Json::array();
  for (const v1::Object& object : objects) list["items"].push_back(ToJsonValue(object));
  return list.dump(2);
}

std::string ToYaml(const v1::Object& object) {
  YAML::Emitter out;
  EmitYaml(out, ToJsonValue(object));
  return out.c_str();
}

std::string MessageToYaml(const google::protobuf::Message& message) {
  YAML::Emitter out;
  EmitYaml(out, ToJsonValue(message));
  return out.c_str();
}

std::string ToSortedYaml(const v1::Object& object) {
  // Through nlohmann::json, whose objects keep their keys sorted.
  YAML::Emitter out;
  EmitYaml(out, Json::parse(nlohmann::json::parse(ToJsonValue(object).dump()).dump()));
  return out.c_str();
}

std::vector<std::string> TableHeader(const std::string& kind, bool wide) {
  if (kind == kKindEvent) return EventHeader(wide);
  if (kind == kKindNetwork) {
    if (wide) return {"NAME", "STACK", "SUBNET", "GATEWAY", "INTERNAL", "NODES", "VNI", "READY", "AGE"};
    return {"NAME", "STACK", "SUBNET", "GATEWAY", "INTERNAL", "NODES", "AGE"};
  }
  if (kind == kKindVolume) return {"NAME", "STACK", "DRIVER", "STATUS", "BACKUP", "AGE"};
  if (kind == kKindService) {
    if (wide) return {"NAME", "STACK", "READY", "UP-TO-DATE", "IMAGE", "NETWORK", "AGE", "SELECTOR"};
    return {"NAME", "STACK", "READY", "UP-TO-DATE", "IMAGE", "AGE"};
  }
  if (kind == kKindContainer) {
    if (wide) return {"NAME", "STACK", "SERVICE", "PHASE", "HEALTH", "RESTARTS", "NODE", "IP", "AGE"};
    return {"NAME", "STACK", "PHASE", "HEALTH", "RESTARTS", "NODE", "AGE"};
  }
  if (wide) {
    return {"NAME", "STATUS", "MEMORY", "CPUS", "ALLOCATED", "CONTAINERS", "DOCKER", "LAST HEARTBEAT", "AGE", "LABELS"};
  }
  return {"NAME", "STATUS", "MEMORY", "CPUS", "AGE"};
}

NodeAllocations AllocationsOf(const std::vector<v1::Object>& containers) {
  NodeAllocations allocations;
  for (const v1::Object& object : containers) {
    const v1::Container& container = object.container();
    if (container.spec().node_name().empty()) continue;
    NodeAllocation& allocation = allocations[container.spec().node_name()];
    allocation.memory_bytes += MemoryReservationOf(container);
    ++allocation.containers;
  }
  return allocations;
}

namespace {

std::vector<std::string> ServiceRow(const v1::Object& object, bool wide, absl::Time now) {
  const v1::ObjectMeta& meta = MetaOf(object);
  std::string stack = OrNone(meta.stack());
  const v1::Service& service = object.service();
  std::string ready = absl::StrCat(service.status().ready_replicas(), "/", service.spec().replicas());
  std::string updated = absl::StrCat(service.status().updated_replicas());
  if (wide) {
    return {meta.name(),
            stack,
            ready,
            updated,
            service.spec().template_().image(),
            OrNone(service.spec().network().name()),
            Age(meta, now),
            Labels(service.spec().node_selector())};
  }
  return {meta.name(), stack, ready, updated, service.spec().template_().image(), Age(meta, now)};
}

std::vector<std::string> ContainerRow(const v1::Object& object, bool wide, absl::Time now) {
  const v1::ObjectMeta& meta = MetaOf(object);
  std::string stack = OrNone(meta.stack());
  const v1::Container& container = object.container();
  const v1::ContainerStatus& status = container.status();
  std::string phase = status.phase().empty() ? "Pending" : status.phase();
  std::string health = status.health().empty() ? "-" : status.health();
  std::string node = OrNone(container.spec().node_name());
  std::string restarts = absl::StrCat(status.restart_count());
  if (wide) {
    std::string ip =
        !status.ip_address().empty() ? status.ip_address() : OrNone(container.spec().network().ipv4_address());
    return {meta.name(), stack, container.spec().service(), phase, health, restarts, node, ip, Age(meta, now)};
  }
  return {meta.name(), stack, phase, health, restarts, node, Age(meta, now)};
}

std::vector<std::string> NodeRow(const v1::Object& object, bool wide, absl::Time now,
                                 const NodeAllocations* allocations) {
  const v1::ObjectMeta& meta = MetaOf(object);
  const v1::Node& node = object.node();
  std::string ready = ConditionStatus(node.status().conditions(), "Ready") == "True" ? "Ready" : "NotReady";
  if (node.spec().unschedulable()) ready += ",SchedulingDisabled";
  std::string memory = absl::StrCat(node.status().capacity().memory_bytes() >> 20, "Mi");
  std::string cpus = absl::StrCat(node.status().capacity().milli_cpus() / 1000.0);
  if (wide) {
    absl::Time heartbeat = ParseTimestamp(node.status().last_heartbeat());
    NodeAllocation allocation;
    if (allocations != nullptr) {
      if (auto found = allocations->find(meta.name()); found != allocations->end()) allocation = found->second;
    }
    int64_t capacity = node.status().capacity().memory_bytes();
    std::string allocated = absl::StrCat(allocation.memory_bytes >> 20, "Mi");
    if (capacity > 0) absl::StrAppend(&allocated, " (", allocation.memory_bytes * 100 / capacity, "%)");
    return {meta.name(),
            ready,
            memory,
            cpus,
            allocations == nullptr ? "<unknown>" : allocated,
            allocations == nullptr ? "<unknown>" : absl::StrCat(allocation.containers),
            OrNone(node.status().docker_version()),
            heartbeat == absl::InfinitePast() ? "<never>" : absl::StrCat(FormatAge(now - heartbeat), " ago"),
            Age(meta, now),
            Labels(meta.labels())};
  }
  return {meta.name(), ready, memory, cpus, Age(meta, now)};
}

// NODES: how many nodes run its containers (what it spans); wide adds its VNI and Ready condition.
std::vector<std::string> NetworkRow(const v1::Network& network, bool wide, absl::Time now) {
  const v1::NetworkSpec& spec = network.spec();
  std::set<std::string> nodes;
  for (const v1::NetworkEndpoint& endpoint : network.status().endpoints()) nodes.insert(endpoint.node());
  std::vector<std::string> row = {
      network.metadata().name(), OrNone(network.metadata().stack()), OrNone(spec.subnet()),
      OrNone(spec.gateway()),    spec.internal() ? "true" : "false", absl::StrCat(nodes.size())};
  if (wide) {
    row.push_back(network.status().vni() == 0 ? "<none>" : absl::StrCat(network.status().vni()));
    std::string ready = ConditionStatus(network.status().conditions(), kConditionReady);
    row.push_back(ready == "Unknown" ? "-" : ready);
  }
  row.push_back(Age(network.metadata(), now));
  return row;
}

}  // namespace

std::vector<std::string> TableRow(const v1::Object& object, bool wide, absl::Time now,
                                  const NodeAllocations* allocations) {
  const v1::ObjectMeta& meta = MetaOf(object);
  std::string kind = KindOf(object);
  std::string stack = OrNone(meta.stack());
  if (kind == kKindNetwork) return NetworkRow(object.network(), wide, now);
  if (kind == kKindVolume) {
    const v1::Volume& volume = object.volume();
    return {meta.name(),
            stack,
            volume.spec().driver().empty() ? "local" : volume.spec().driver(),
            meta.deletion_timestamp().empty() ? "Available" : "Terminating",
            BackupSummary(volume, now),
            Age(meta, now)};
  }
  if (kind == kKindService) return ServiceRow(object, wide, now);
  if (kind == kKindContainer) return ContainerRow(object, wide, now);
  if (kind == kKindEvent) return EventRow(object.event(), wide, now);
  return NodeRow(object, wide, now, allocations);
}

std::string FormatRows(const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths;
  for (const auto& row : rows) {
    if (widths.size() < row.size()) widths.resize(row.size(), 0);
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string out;
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 3, ' ');
    }
    out += line + "\n";
  }
  return out;
}

std::string ToTable(const std::string& kind, const std::vector<v1::Object>& objects, bool wide, absl::Time now,
                    bool with_header, const NodeAllocations* allocations) {
  std::vector<std::vector<std::string>> rows;
  if (with_header) rows.push_back(TableHeader(kind, wide));
  for (const v1::Object& object : objects) rows.push_back(TableRow(object, wide, now, allocations));
  return FormatRows(rows);
}

}  // namespace opctl::cli
