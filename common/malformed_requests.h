// gRPC answers a request its method cannot decode (not protobuf, or nested deeper than protobuf's
// limit of 100) with a bare UNIMPLEMENTED and no message, as if the method did not exist. This server
// interceptor turns that answer, on methods that do exist, into INVALID_ARGUMENT saying so, so a bad
// client learns what is wrong with its request. Install it on every opctl server.
#pragma once

#include <memory>
#include <vector>

#include "grpcpp/support/server_interceptor.h"

namespace opctl {

// The interceptor factories for ServerBuilder::experimental().SetInterceptorCreators.
std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> MalformedRequestInterceptors();

}  // namespace opctl
