#include "controller/placement_index.h"

#include <algorithm>

namespace opctl::controller {

void PlacementIndex::Reset(const std::vector<v1::Object>& containers, int64_t revision) {
  absl::MutexLock lock(&mutex_);
  loads_.clear();
  unbound_.clear();
  bound_.clear();
  node_changed_.clear();
  revision_ = reset_revision_ = revision;
  for (const v1::Object& object : containers) Add(object.container());
}

void PlacementIndex::Observe(const ObjectChange& change) {
  if (!change.object.has_container()) return;
  absl::MutexLock lock(&mutex_);
  revision_ = std::max(revision_, change.revision);
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
  bound_[node][container.metadata().name()] = container.spec().binding_generation();
  node_changed_[node] = revision_;
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
  node_changed_[node] = revision_;
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
  std::vector<std::string> result;
  for (const auto& [name, generation] : names->second) result.push_back(name);
  return result;
}

std::optional<v1::NodeBindings> PlacementIndex::BindingsOf(const std::string& node, int64_t after_revision) const {
  absl::MutexLock lock(&mutex_);
  auto found = node_changed_.find(node);
  // A node without a change since the index started may have lost its last container before that.
  int64_t changed = found == node_changed_.end() ? reset_revision_ : found->second;
  if (after_revision > 0 && changed <= after_revision) return std::nullopt;
  v1::NodeBindings bindings;
  bindings.set_revision(revision_);
  if (auto names = bound_.find(node); names != bound_.end()) {
    for (const auto& [name, generation] : names->second) (*bindings.mutable_binding_generations())[name] = generation;
  }
  return bindings;
}

}  // namespace opctl::controller
