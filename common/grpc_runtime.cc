#include "common/grpc_runtime.h"

#include <grpc/grpc.h>
#include <openssl/crypto.h>

namespace opctl {

GrpcRuntime::GrpcRuntime() {
  OPENSSL_init_crypto(OPENSSL_INIT_NO_ATEXIT, nullptr);  // before gRPC initialises OpenSSL
  grpc_init();
}

GrpcRuntime::~GrpcRuntime() { grpc_shutdown_blocking(); }

}  // namespace opctl
