#include "common/api_metrics.h"

#include "absl/status/status.h"
#include "absl/time/clock.h"
#include "common/grpc_methods.h"
#include "grpcpp/support/interceptor.h"

namespace opctl {
namespace {

using grpc::experimental::InterceptionHookPoints;
using grpc::experimental::ServerRpcInfo;

constexpr char kUnknownMethod[] = "unknown";

class ApiMetricsInterceptor : public grpc::experimental::Interceptor {
 public:
  ApiMetricsInterceptor(ApiMetrics& metrics, std::string method, bool unary)
      : metrics_(metrics), method_(std::move(method)), unary_(unary), started_(absl::Now()) {
    if (!unary_) metrics_.Streams(method_).Increment();
  }
  ~ApiMetricsInterceptor() override {
    if (!unary_) metrics_.Streams(method_).Decrement();
  }

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      metrics_.Finished(method_, methods->GetSendStatus().error_code(),
                        unary_ ? absl::ToDoubleSeconds(absl::Now() - started_) : -1);
    }
    methods->Proceed();
  }

 private:
  ApiMetrics& metrics_;
  const std::string method_;
  const bool unary_;
  const absl::Time started_;
};

class ApiMetricsFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit ApiMetricsFactory(ApiMetrics& metrics) : metrics_(metrics) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(ServerRpcInfo* info) override {
    std::string method = info->method() == nullptr ? "" : info->method();
    if (!IsCompiledMethod(method)) method = kUnknownMethod;
    return new ApiMetricsInterceptor(metrics_, method, info->type() == ServerRpcInfo::Type::UNARY);
  }

 private:
  ApiMetrics& metrics_;
};

}  // namespace

ApiMetrics::ApiMetrics(prometheus::Registry& registry, const std::string& prefix)
    : requests_(prometheus::BuildCounter()
                    .Name(prefix + "_requests_total")
                    .Help("gRPC calls finished, by method and status code")
                    .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name(prefix + "_request_duration_seconds")
                   .Help("how long unary gRPC calls took, from arrival to status, by method")
                   .Register(registry)),
      streams_(prometheus::BuildGauge()
                   .Name(prefix + "_streams_open")
                   .Help("streaming gRPC calls under way (watches, logs, exec), by method")
                   .Register(registry)) {}

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> ApiMetrics::InterceptorFactory() {
  return std::make_unique<ApiMetricsFactory>(*this);
}

void ApiMetrics::Finished(const std::string& method, grpc::StatusCode code, double unary_seconds) {
  // gRPC's codes are Abseil's, and so are their names (OK, INVALID_ARGUMENT, ...).
  std::string name = absl::StatusCodeToString(static_cast<absl::StatusCode>(code));
  requests_.Add({{"method", method}, {"code", name}}).Increment();
  if (unary_seconds < 0) return;
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                                   0.1,    0.25,  0.5,    1,     2.5,  5,     10};
  latency_.Add({{"method", method}}, kBuckets).Observe(unary_seconds);
}

}  // namespace opctl
