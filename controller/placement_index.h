// What the scheduler needs to know of every Container, kept current from the watch stream (as an
// informer's cache is), so that a scheduling pass costs the containers waiting for a node rather than
// a read of every container in the store: the load of each node and the names waiting or bound where.
//
// Thread-safe. Observe runs in a watch sink, so it only updates maps.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "controller/scheduler.h"
#include "controller/stored_object.h"

namespace opctl::controller {

class PlacementIndex {
 public:
  // Starts over from a list of every Container (read at the revision the watch continues from).
  void Reset(const std::vector<v1::Object>& containers);
  // Follows one change; changes of other kinds are ignored.
  void Observe(const ObjectChange& change);

  NodeLoads Loads() const;
  std::vector<std::string> Unbound() const;              // names, in name order
  std::vector<std::string> BoundTo(const std::string& node) const;  // names, in name order

 private:
  void Add(const v1::Container& container) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Remove(const v1::Container& container) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  mutable absl::Mutex mutex_;
  NodeLoads loads_ ABSL_GUARDED_BY(mutex_);
  std::set<std::string> unbound_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, std::set<std::string>> bound_ ABSL_GUARDED_BY(mutex_);  // node -> names
};

}  // namespace opctl::controller
