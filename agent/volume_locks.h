// Volumes an operation has taken over (a restore): the reconciler leaves the containers that mount
// them alone, so it does not start a container the restore stopped while its data is replaced.
//
// Thread-safe.
#pragma once

#include <set>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"

namespace opctl::agent {

class VolumeLocks {
 public:
  // False when the volume is already held by another operation.
  bool TryHold(const std::string& volume) {
    absl::MutexLock lock(&mutex_);
    return held_.insert(volume).second;
  }
  void Release(const std::string& volume) {
    absl::MutexLock lock(&mutex_);
    held_.erase(volume);
  }
  bool IsHeld(const std::string& volume) const {
    absl::MutexLock lock(&mutex_);
    return held_.count(volume) > 0;
  }

 private:
  mutable absl::Mutex mutex_;
  std::set<std::string> held_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace opctl::agent
