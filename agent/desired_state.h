// What the controller wants on this node, as the agent last heard it: the Containers bound here, every
// Network and Volume, and this Node. Filled by the controller link (list, then watch events) and read
// by the reconciler.
//
// Thread-safe.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "opctl/v1/controller.pb.h"

namespace opctl::agent {

class DesiredState {
 public:
  // Replaces everything with a fresh list; returns the work keys of what changed or went away.
  std::vector<std::string> Replace(const std::vector<v1::Object>& objects, int64_t revision);
  // Applies one watch event; returns the work key it touches ("container/NAME", ...).
  std::string Apply(const v1::WatchEvent& event);
  void SetRevision(int64_t revision);
  int64_t revision() const;
  // Whether a list has been received (an informer's "has synced"): until then, what is absent here is
  // unknown, not unwanted, and nothing may be removed for being absent.
  bool synced() const;

  std::optional<v1::Object> Find(const std::string& kind, const std::string& name) const;
  // Every object of a kind.
  std::vector<v1::Object> All(const std::string& kind) const;
  // Work keys of every object held, for a full resync.
  std::vector<std::string> Keys() const;

 private:
  mutable absl::Mutex mutex_;
  std::map<std::string, v1::Object> objects_ ABSL_GUARDED_BY(mutex_);  // by work key
  int64_t revision_ ABSL_GUARDED_BY(mutex_) = 0;
  bool synced_ ABSL_GUARDED_BY(mutex_) = false;
};

// "container/redis-master-0"
std::string WorkKey(const std::string& kind, const std::string& name);
// The key of a pass that removes what nobody wants.
inline constexpr char kGcKey[] = "gc";

}  // namespace opctl::agent
