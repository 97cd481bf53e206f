#include "controller/placement_index.h"

namespace opctl::controller {

void PlacementIndex::Reset(const std::vector<v1::Object>& containers) {
  absl::MutexLock lock(&mutex_);
  loads_.clear();
  unbound_.clear();
  bound_.clear();
  for (const v1::Object& object : containers) Add(object.container());
}

void PlacementIndex::Observe(const ObjectChange& change) {
  if (!change.object.has_container()) return;
  absl::MutexLock lock(&mutex_);
  // A deletion carries the last state; a modification the state before it.
  if (change.deleted) {
    Remove(change.object.container());
    return;
  }
  if (change.previous) Remove(change.previous->container());
  Add(change.object.container());
}

void PlacementIndex::Add(const v1::Container& container) {
  const std::string& node = container.spec().node_name();
  if (node.empty()) {
    unbound_.insert(container.metadata().name());
    return;
  }
  bound_[node].insert(container.metadata().name());
  CountOnNode(container, 1, loads_);
}

void PlacementIndex::Remove(const v1::Container& container) {
  const std::string& node = container.spec().node_name();
  if (node.empty()) {
    unbound_.erase(container.metadata().name());
    return;
  }
  auto names = bound_.find(node);
  if (names == bound_.end() || names->second.erase(container.metadata().name()) == 0) return;
  if (names->second.empty()) bound_.erase(names);
  CountOnNode(container, -1, loads_);
}

NodeLoads PlacementIndex::Loads() const {
  absl::MutexLock lock(&mutex_);
  return loads_;
}

std::vector<std::string> PlacementIndex::Unbound() const {
  absl::MutexLock lock(&mutex_);
  return {unbound_.begin(), unbound_.end()};
}

std::vector<std::string> PlacementIndex::BoundTo(const std::string& node) const {
  absl::MutexLock lock(&mutex_);
  auto names = bound_.find(node);
  if (names == bound_.end()) return {};
  return {names->second.begin(), names->second.end()};
}

}  // namespace opctl::controller
