#include "common/work_queue.h"

namespace opctl {

void WorkQueue::Add(const std::string& key) {
  absl::MutexLock lock(&mutex_);
  if (shut_down_) return;
  delayed_.erase(key);
  if (processing_.count(key)) {
    dirty_.insert(key);
    return;
  }
  if (queued_.insert(key).second) ready_.push_back(key);
}

void WorkQueue::AddAfter(const std::string& key, absl::Duration delay) {
  if (delay <= absl::ZeroDuration()) return Add(key);
  absl::MutexLock lock(&mutex_);
  if (shut_down_ || queued_.count(key)) return;
  absl::Time when = clock_.Now() + delay;
  auto [it, inserted] = delayed_.emplace(key, when);
  if (!inserted && when < it->second) it->second = when;
}

void WorkQueue::PromoteDelayedLocked() {
  absl::Time now = clock_.Now();
  for (auto it = delayed_.begin(); it != delayed_.end();) {
    if (it->second > now) {
      ++it;
      continue;
    }
    const std::string& key = it->first;
    if (processing_.count(key))
      dirty_.insert(key);
    else if (queued_.insert(key).second)
      ready_.push_back(key);
    it = delayed_.erase(it);
  }
}

std::optional<std::string> WorkQueue::Get() {
  absl::MutexLock lock(&mutex_);
  while (true) {
    PromoteDelayedLocked();
    if (shut_down_) return std::nullopt;
    if (!ready_.empty()) break;
    // Sleep until a key arrives or the earliest delayed key is due.
    absl::Time due = absl::InfiniteFuture();
    for (const auto& [key, when] : delayed_) due = std::min(due, when);
    auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_) { return shut_down_ || !ready_.empty(); };
    clock_.AwaitUntil(mutex_, absl::Condition(&has_work), due);
  }
  std::string key = std::move(ready_.front());
  ready_.pop_front();
  queued_.erase(key);
  processing_.insert(key);
  return key;
}

void WorkQueue::Done(const std::string& key) {
  absl::MutexLock lock(&mutex_);
  processing_.erase(key);
  if (dirty_.erase(key) && !shut_down_ && queued_.insert(key).second) ready_.push_back(key);
}

void WorkQueue::ShutDown() {
  absl::MutexLock lock(&mutex_);
  shut_down_ = true;
}

size_t WorkQueue::Length() const {
  absl::MutexLock lock(&mutex_);
  return ready_.size();
}

}  // namespace opctl
