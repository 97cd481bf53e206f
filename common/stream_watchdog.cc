#include "common/stream_watchdog.h"

#include "absl/time/clock.h"

namespace opctl {

StreamWatchdog::StreamWatchdog(absl::Duration write_timeout)
    : write_timeout_(write_timeout), thread_([this] { Loop(); }) {}

StreamWatchdog::~StreamWatchdog() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  thread_.join();
}

uint64_t StreamWatchdog::Begin(grpc::ServerContextBase& context) {
  absl::MutexLock lock(&mutex_);
  uint64_t token = next_++;
  pending_[token] = {&context, absl::Now()};
  return token;
}

void StreamWatchdog::End(uint64_t token) {
  absl::MutexLock lock(&mutex_);
  pending_.erase(token);
}

void StreamWatchdog::Loop() {
  absl::MutexLock lock(&mutex_);
  absl::Duration tick = std::min(absl::Seconds(1), write_timeout_ / 4);
  while (!stopping_) {
    mutex_.AwaitWithTimeout(absl::Condition(&stopping_), tick);
    absl::Time now = absl::Now();
    for (auto& [token, write] : pending_) {
      // The write is still pending, so the call (and its context) is alive: End comes after it.
      if (now - write.started >= write_timeout_ && write.context != nullptr) {
        write.context->TryCancel();
        write.context = nullptr;  // once
      }
    }
  }
}

}  // namespace opctl
