// What the scheduler needs to know of every Container, kept current from the watch stream (as an
// informer's cache is), so that a scheduling pass costs the containers waiting for a node rather than
// a read of every container in the store: the load of each node and the names waiting or bound where.
//
// Thread-safe. Observe runs in a watch sink, so it only updates maps.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "controller/scheduler.h"
#include "controller/stored_object.h"
#include "opctl/v1/agent.pb.h"

namespace opctl::controller {

class PlacementIndex {
 public:
  // Starts over from a list of every Container read at `revision` (where the watch continues from).
  void Reset(const std::vector<v1::Object>& containers, int64_t revision);
  // Follows one change; changes of other kinds are ignored.
  void Observe(const ObjectChange& change);

  NodeLoads Loads() const;
  std::vector<std::string> Unbound() const;                         // names, in name order
  std::vector<std::string> BoundTo(const std::string& node) const;  // names, in name order
  // What is bound to `node`, when that changed after `after_revision` (nullopt otherwise).
  std::optional<v1::NodeBindings> BindingsOf(const std::string& node, int64_t after_revision) const;

 private:
  void Add(const v1::Container& container) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Remove(const v1::Container& container) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  mutable absl::Mutex mutex_;
  NodeLoads loads_ ABSL_GUARDED_BY(mutex_);
  std::set<std::string> unbound_ ABSL_GUARDED_BY(mutex_);
  // node -> container name -> binding generation
  std::map<std::string, std::map<std::string, int64_t>> bound_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, int64_t> node_changed_ ABSL_GUARDED_BY(mutex_);  // node -> revision of its last change
  int64_t revision_ ABSL_GUARDED_BY(mutex_) = 0;                         // everything up to here is in
  int64_t reset_revision_ ABSL_GUARDED_BY(mutex_) = 0;
};

}  // namespace opctl::controller
