#include "controller/write_guards.h"

#include <optional>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/api_names.h"
#include "common/object.h"

namespace opctl::controller {

std::vector<std::string> UsersOf(const std::vector<v1::Object>& services, const std::string& kind,
                                 const std::string& name) {
  std::vector<std::string> users;
  for (const v1::Object& object : services) {
    const v1::ServiceSpec& spec = object.service().spec();
    bool uses = kind == kKindNetwork && spec.network().name() == name;
    for (const v1::ServiceNetwork& extra : spec.additional_networks())
      uses |= kind == kKindNetwork && extra.name() == name;
    for (const v1::VolumeMount& mount : spec.template_().volume_mounts())
      uses |= kind == kKindVolume && mount.name() == name;
    for (const v1::VolumeTemplate& volume : spec.volume_templates()) {
      std::string prefix = absl::StrCat(volume.name(), "-", object.service().metadata().name(), "-");
      int ordinal = -1;
      uses |= kind == kKindVolume && absl::StartsWith(name, prefix) &&
              absl::SimpleAtoi(absl::string_view(name).substr(prefix.size()), &ordinal) && ordinal >= 0 &&
              ordinal < spec.replicas();
    }
    if (uses) users.push_back(DisplayName(object));
  }
  return users;
}

std::vector<Precondition> ApplyGuards(const std::vector<v1::Object>& objects, const ObjectLookup& stored,
                                      int64_t read_at) {
  std::vector<Precondition> guards;
  std::set<std::string> referenced;
  bool services_or_networks = false;
  for (const v1::Object& object : objects) {
    std::string kind = KindOf(object);
    services_or_networks |= kind == kKindService || kind == kKindNetwork;
    if (kind != kKindService) continue;
    const v1::ServiceSpec& spec = object.service().spec();
    if (!spec.network().name().empty()) referenced.insert(StoreKey("Network", spec.network().name()));
    for (const v1::ServiceNetwork& extra : spec.additional_networks()) {
      referenced.insert(StoreKey("Network", extra.name()));
    }
    for (const v1::VolumeMount& mount : spec.template_().volume_mounts()) {
      if (!mount.name().empty()) referenced.insert(StoreKey("Volume", mount.name()));
    }
  }
  if (services_or_networks) {
    guards.push_back({KindPrefix("Service"), true, read_at});
    guards.push_back({KindPrefix("Network"), true, read_at});
  }
  std::set<std::string> applied;
  for (const v1::Object& object : objects) applied.insert(StoreKey(object));
  for (const std::string& key : referenced) {
    if (applied.count(key)) continue;  // written by this transaction, which checks its revision
    std::string kind = key.substr(kObjectsPrefix.size(), key.find('/', kObjectsPrefix.size()) - kObjectsPrefix.size());
    std::optional<v1::Object> found = stored.Find(kind, key.substr(KindPrefix(kind).size()));
    guards.push_back({key, false, found ? MetaOf(*found).resource_version() : 0});
  }
  return guards;
}

}  // namespace opctl::controller
