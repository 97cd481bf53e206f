// Cuts off streaming calls whose peer stopped reading. gRPC's synchronous Write blocks until the
// client takes the data; a client that never reads would pin the call's thread (and, through the
// controller's proxy, an agent's and a dockerd stream) for ever. Each write is timed; one that has
// not completed within the limit cancels its call. A stream that is merely idle (nothing to send,
// as `logs -f` between lines) is never cut.
//
// Thread-safe; one background thread.
#pragma once

#include <cstdint>
#include <map>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/server_context.h"

namespace opctl {

class StreamWatchdog {
 public:
  explicit StreamWatchdog(absl::Duration write_timeout = absl::Seconds(60));
  ~StreamWatchdog();

  // Runs `write` (one blocking Write of the call of `context`); when it takes longer than the
  // timeout, the call is cancelled, which makes the write return false.
  template <typename Write>
  bool TimedWrite(grpc::ServerContextBase& context, Write write) {
    uint64_t token = Begin(context);
    bool written = write();
    End(token);
    return written;
  }

  absl::Duration write_timeout() const { return write_timeout_; }

 private:
  struct Pending {
    grpc::ServerContextBase* context;
    absl::Time started;
  };
  uint64_t Begin(grpc::ServerContextBase& context);
  void End(uint64_t token);
  void Loop();

  const absl::Duration write_timeout_;
  absl::Mutex mutex_;
  std::map<uint64_t, Pending> pending_ ABSL_GUARDED_BY(mutex_);
  uint64_t next_ ABSL_GUARDED_BY(mutex_) = 1;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace opctl
