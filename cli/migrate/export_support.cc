#include "cli/migrate/export_support.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/object.h"
#include "common/quantity.h"

namespace opctl::cli::exporting {

std::map<std::string, Stack> GroupByStack(const std::vector<v1::Object>& objects) {
  std::map<std::string, Stack> stacks;
  for (const v1::Object& object : objects) {
    const v1::ObjectMeta& meta = MetaOf(object);
    std::string name = meta.stack().empty() ? "default" : meta.stack();
    Stack* stack = &stacks[name];
    stack->name = name;
    if (object.has_network()) stack->networks.push_back(&object.network());
    // A Service's per-replica Volumes are the controller's: the target makes its own.
    if (object.has_volume() && !meta.labels().contains(kServiceLabel)) stack->volumes.push_back(&object.volume());
    if (object.has_service()) stack->services.push_back(&object.service());
  }
  for (auto it = stacks.begin(); it != stacks.end();) {
    bool empty = it->second.networks.empty() && it->second.volumes.empty() && it->second.services.empty();
    it = empty ? stacks.erase(it) : std::next(it);
  }
  return stacks;
}

bool PerReplica(const v1::Service& service) {
  bool addresses = service.spec().network().addresses_size() > 0;
  for (const auto& more : service.spec().additional_networks()) addresses |= more.addresses_size() > 0;
  return addresses || service.spec().volume_templates_size() > 0;
}

std::string ReplicaName(const v1::Service& service, int ordinal) {
  return absl::StrCat(service.metadata().name(), "-", ordinal);
}

std::string ReplaceAddresses(const std::string& value, const std::map<std::string, std::string>& names,
                             bool* replaced) {
  std::string out;
  size_t i = 0;
  auto part_of_address = [](char c) { return absl::ascii_isdigit(c) || c == '.'; };
  while (i < value.size()) {
    if (!part_of_address(value[i]) || (i > 0 && part_of_address(value[i - 1]))) {
      out += value[i++];
      continue;
    }
    size_t end = i;
    while (end < value.size() && part_of_address(value[end])) ++end;
    std::string token = value.substr(i, end - i);
    auto name = names.find(token);
    if (name != names.end()) {
      out += name->second;
      *replaced = true;
    } else {
      out += token;
    }
    i = end;
  }
  return out;
}

std::string ComposeMemory(const std::string& quantity) {
  absl::StatusOr<int64_t> bytes = ParseMemoryBytes(quantity);
  if (!bytes.ok()) return quantity;
  for (auto [unit, size] : {std::pair{"g", int64_t{1} << 30}, {"m", int64_t{1} << 20}, {"k", int64_t{1} << 10}}) {
    if (*bytes >= size && *bytes % size == 0) return absl::StrCat(*bytes / size, unit);
  }
  return absl::StrCat(*bytes);
}

std::string DecimalCpus(const std::string& quantity) {
  absl::StatusOr<int64_t> milli = ParseMilliCpus(quantity);
  if (!milli.ok()) return quantity;
  std::string out = absl::StrCat(*milli / 1000);
  if (int64_t rest = *milli % 1000; rest != 0) {
    std::string fraction = absl::StrCat(1000 + rest).substr(1);
    while (fraction.back() == '0') fraction.pop_back();
    out += "." + fraction;
  }
  return out;
}

int64_t DurationSeconds(const std::string& duration) {
  if (duration.empty()) return 0;
  absl::StatusOr<absl::Duration> parsed = ParseDuration(duration);
  return parsed.ok() ? absl::ToInt64Seconds(absl::Ceil(*parsed, absl::Seconds(1))) : 0;
}

std::string RestartPolicyOf(const v1::ContainerTemplate& container) {
  return container.restart_policy().empty() ? "unless-stopped" : container.restart_policy();
}
std::string LogMaxSizeOf(const v1::ContainerTemplate& container) {
  return container.logs().max_size().empty() ? "10m" : container.logs().max_size();
}
int LogMaxFilesOf(const v1::ContainerTemplate& container) {
  return container.logs().max_files() == 0 ? 3 : container.logs().max_files();
}
int64_t PidsLimitOf(const v1::ContainerTemplate& container) {
  int64_t limit = container.resources().pids_limit();
  return limit == 0 ? 4096 : limit < 0 ? 0 : limit;
}

}  // namespace opctl::cli::exporting
