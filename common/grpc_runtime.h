// Holds gRPC's runtime for the whole of main(). gRPC's threads may still be ending while the process
// exits; OpenSSL's exit handler would free its per-thread state under them, and their thread-exit
// handlers then free it a second time (found by ASan: a double free in libcrypto, at exit of `opctl`,
// about once in 150 runs). So OpenSSL is told not to clean up at exit (the memory goes with the
// process), and gRPC is shut down on main's thread, waiting for it. Declare it first in main (the
// agent starts it only after forking its fence guard: no gRPC state may cross a fork).
#pragma once

namespace opctl {

class GrpcRuntime {
 public:
  GrpcRuntime();
  ~GrpcRuntime();
  GrpcRuntime(const GrpcRuntime&) = delete;
  GrpcRuntime& operator=(const GrpcRuntime&) = delete;
};

}  // namespace opctl
