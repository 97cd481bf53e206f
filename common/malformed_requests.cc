#include "common/malformed_requests.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/grpc_methods.h"
#include "grpcpp/support/interceptor.h"

namespace opctl {
namespace {

class MalformedRequestInterceptor : public grpc::experimental::Interceptor {
 public:
  explicit MalformedRequestInterceptor(std::string method) : method_(std::move(method)) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(grpc::experimental::InterceptionHookPoints::PRE_SEND_STATUS)) {
      grpc::Status status = methods->GetSendStatus();
      // Our handlers never answer UNIMPLEMENTED without a word: this is gRPC failing to decode.
      if (status.error_code() == grpc::StatusCode::UNIMPLEMENTED && status.error_message().empty()) {
        methods->ModifySendStatus(grpc::Status(
            grpc::StatusCode::INVALID_ARGUMENT,
            absl::StrCat("the request to ", method_,
                         " does not decode as its protobuf message: malformed, or nested deeper than 100 levels")));
      }
    }
    methods->Proceed();
  }

 private:
  const std::string method_;
};

class MalformedRequestInterceptorFactory : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  grpc::experimental::Interceptor* CreateServerInterceptor(grpc::experimental::ServerRpcInfo* info) override {
    // Only methods that exist (an unknown one stays UNIMPLEMENTED).
    std::string name = info->method() == nullptr ? "" : info->method();
    if (!IsCompiledMethod(name)) return nullptr;
    return new MalformedRequestInterceptor(name);
  }
};

}  // namespace

std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> MalformedRequestInterceptors() {
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> factories;
  factories.push_back(std::make_unique<MalformedRequestInterceptorFactory>());
  return factories;
}

}  // namespace opctl
