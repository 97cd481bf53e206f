// The CLI's connection to opctl-controller and the way its errors read. Not thread-safe (one per
// command).
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "opctl/v1/controller.grpc.pb.h"
#include "opctl/v1/operations.grpc.pb.h"

namespace opctl::cli {

inline constexpr int64_t kListPage = 500;

class ControllerClient {
 public:
  ControllerClient(std::string address, absl::Duration timeout,
                   std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials());

  v1::Controller::Stub& stub() { return *stub_; }
  v1::Operations::Stub& operations() { return *operations_; }
  const std::string& address() const { return address_; }
  // One unary call with the call deadline set, e.g. Call(&v1::Controller::Stub::Get, request, &object).
  template <typename Request, typename Response>
  grpc::Status Call(grpc::Status (v1::Controller::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) const {
    std::unique_ptr<grpc::ClientContext> context = NewContext();
    return (stub_.get()->*method)(context.get(), request, response);
  }
  // The whole list, page by page (kListPage objects a page, as kubectl's --chunk-size): the items of
  // every page, and the revision of the first (watch from there to miss nothing).
  grpc::Status List(const v1::ListRequest& request, v1::ListResponse* response) const;
  // A context with the call deadline set (none for watches).
  std::unique_ptr<grpc::ClientContext> NewContext(bool with_deadline = true) const;
  // "cannot reach the controller at 127.0.0.1:7070: ..." for transport failures; the server's own
  // message otherwise.
  std::string Explain(const grpc::Status& status) const;

 private:
  std::string address_;
  absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Controller::Stub> stub_;
  std::unique_ptr<v1::Operations::Stub> operations_;
};

}  // namespace opctl::cli
