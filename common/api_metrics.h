// The gRPC API's own metrics, counted by a server interceptor: requests by method and status code,
// the latency of unary calls (a stream's length is its caller's choice, not the server's speed) and
// the streams open. Methods are labelled only when compiled in, so a caller cannot grow the series.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/support/server_interceptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace opctl {

class ApiMetrics {
 public:
  // Families named PREFIX_requests_total, PREFIX_request_duration_seconds, PREFIX_streams_open.
  ApiMetrics(prometheus::Registry& registry, const std::string& prefix);

  // The interceptor factory for ServerBuilder::experimental().SetInterceptorCreators; uses this
  // object, which must outlive the server.
  std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> InterceptorFactory();

  void Finished(const std::string& method, grpc::StatusCode code, double unary_seconds);
  prometheus::Gauge& Streams(const std::string& method) { return streams_.Add({{"method", method}}); }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& latency_;
  prometheus::Family<prometheus::Gauge>& streams_;
};

}  // namespace opctl
