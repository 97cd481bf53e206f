#include "agent/desired_state.h"

#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/object.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::agent {

std::string WorkKey(const std::string& kind, const std::string& name) {
  return absl::StrCat(absl::AsciiStrToLower(kind), "/", name);
}

std::vector<std::string> DesiredState::Replace(const std::vector<v1::Object>& objects, int64_t revision) {
  std::map<std::string, v1::Object> fresh;
  for (const v1::Object& object : objects) fresh[WorkKey(KindOf(object), MetaOf(object).name())] = object;
  absl::MutexLock lock(&mutex_);
  std::vector<std::string> changed;
  for (const auto& [key, object] : objects_) {
    if (!fresh.count(key)) changed.push_back(key);
  }
  for (const auto& [key, object] : fresh) {
    auto old = objects_.find(key);
    if (old == objects_.end() || !google::protobuf::util::MessageDifferencer::Equals(old->second, object)) {
      changed.push_back(key);
    }
  }
  objects_ = std::move(fresh);
  revision_ = revision;
  synced_ = true;
  return changed;
}

bool DesiredState::synced() const {
  absl::MutexLock lock(&mutex_);
  return synced_;
}

std::string DesiredState::Apply(const v1::WatchEvent& event) {
  std::string key = WorkKey(KindOf(event.object()), MetaOf(event.object()).name());
  absl::MutexLock lock(&mutex_);
  if (event.type() == v1::WatchEvent::DELETED)
    objects_.erase(key);
  else
    objects_[key] = event.object();
  revision_ = std::max(revision_, event.revision());
  return key;
}

void DesiredState::SetRevision(int64_t revision) {
  absl::MutexLock lock(&mutex_);
  revision_ = std::max(revision_, revision);
}

int64_t DesiredState::revision() const {
  absl::MutexLock lock(&mutex_);
  return revision_;
}

std::optional<v1::Object> DesiredState::Find(const std::string& kind, const std::string& name) const {
  absl::MutexLock lock(&mutex_);
  auto found = objects_.find(WorkKey(kind, name));
  if (found == objects_.end()) return std::nullopt;
  return found->second;
}

std::vector<v1::Object> DesiredState::All(const std::string& kind) const {
  std::string prefix = absl::StrCat(absl::AsciiStrToLower(kind), "/");
  absl::MutexLock lock(&mutex_);
  std::vector<v1::Object> objects;
  for (auto it = objects_.lower_bound(prefix); it != objects_.end() && absl::StartsWith(it->first, prefix); ++it) {
    objects.push_back(it->second);
  }
  return objects;
}

std::vector<std::string> DesiredState::Keys() const {
  absl::MutexLock lock(&mutex_);
  std::vector<std::string> keys;
  for (const auto& [key, object] : objects_) keys.push_back(key);
  return keys;
}

}  // namespace opctl::agent
