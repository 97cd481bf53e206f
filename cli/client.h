// The CLI's connection to opctl-controller over gRPC: ControllerApi with each unary call under the
// call deadline. Not thread-safe (one per command), but for Exec and PortForward.
#pragma once

#include <memory>
#include <string>

#include "absl/time/time.h"
#include "cli/controller_api.h"
#include "grpcpp/grpcpp.h"
#include "opctl/v1/controller.grpc.pb.h"
#include "opctl/v1/operations.grpc.pb.h"

namespace opctl::cli {

inline constexpr int64_t kListPage = 500;

class ControllerClient : public ControllerApi {
 public:
  ControllerClient(std::string address, absl::Duration timeout,
                   std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials());

  grpc::Status Apply(const v1::ApplyRequest& request, v1::ApplyResponse* response) override {
    return Call(&v1::Controller::Stub::Apply, request, response);
  }
  grpc::Status Get(const v1::GetRequest& request, v1::Object* object) override {
    return Call(&v1::Controller::Stub::Get, request, object);
  }
  // kListPage objects a page, as kubectl's --chunk-size.
  grpc::Status List(const v1::ListRequest& request, v1::ListResponse* response) override;
  grpc::Status Delete(const v1::DeleteRequest& request, v1::DeleteResponse* response) override {
    return Call(&v1::Controller::Stub::Delete, request, response);
  }
  grpc::Status Scale(const v1::ScaleRequest& request, v1::Object* object) override {
    return Call(&v1::Controller::Stub::Scale, request, object);
  }
  grpc::Status Cordon(const v1::CordonRequest& request, v1::Object* node) override {
    return Call(&v1::Controller::Stub::Cordon, request, node);
  }
  grpc::Status Evict(const v1::EvictRequest& request, v1::Object* container) override {
    return Call(&v1::Controller::Stub::Evict, request, container);
  }
  grpc::Status ListControllers(const v1::ListControllersRequest& request,
                               v1::ListControllersResponse* response) override {
    return Call(&v1::Controller::Stub::ListControllers, request, response);
  }
  grpc::Status Top(const v1::TopRequest& request, v1::TopResponse* response) override;
  std::unique_ptr<StreamReader<v1::WatchEvent>> Watch(const v1::WatchRequest& request) override;
  std::unique_ptr<StreamReader<v1::LogChunk>> Logs(const v1::LogsRequest& request) override;
  std::unique_ptr<StreamReader<v1::DataChunk>> BackupVolume(const v1::BackupVolumeRequest& request) override;
  std::unique_ptr<RestoreWriter> RestoreVolume() override;
  std::unique_ptr<BidiStream<v1::ExecRequest, v1::ExecResponse>> Exec() override;
  std::unique_ptr<BidiStream<v1::PortForwardRequest, v1::PortForwardResponse>> PortForward() override;
  std::string Explain(const grpc::Status& status) const override;

  const std::string& address() const { return address_; }

 private:
  template <typename Request, typename Response>
  grpc::Status Call(grpc::Status (v1::Controller::Stub::*method)(grpc::ClientContext*, const Request&, Response*),
                    const Request& request, Response* response) const {
    std::unique_ptr<grpc::ClientContext> context = NewContext();
    return (stub_.get()->*method)(context.get(), request, response);
  }
  // A context with the call deadline set (none for streams).
  std::unique_ptr<grpc::ClientContext> NewContext(bool with_deadline = true) const;

  std::string address_;
  absl::Duration timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::Controller::Stub> stub_;
  std::unique_ptr<v1::Operations::Stub> operations_;
};

}  // namespace opctl::cli
