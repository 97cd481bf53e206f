#include "cli/client.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/controller_channel.h"
#include "common/list_pages.h"

namespace opctl::cli {
namespace {

// A gRPC server stream with the context it needs alive as long as it is read.
template <typename Message>
class GrpcStreamReader : public StreamReader<Message> {
 public:
  GrpcStreamReader(std::unique_ptr<grpc::ClientContext> context, std::unique_ptr<grpc::ClientReader<Message>> reader)
      : context_(std::move(context)), reader_(std::move(reader)) {}
  bool Read(Message* message) override { return reader_->Read(message); }
  grpc::Status Finish() override { return reader_->Finish(); }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<grpc::ClientReader<Message>> reader_;
};

class GrpcRestoreWriter : public RestoreWriter {
 public:
  GrpcRestoreWriter(std::unique_ptr<grpc::ClientContext> context, v1::Operations::Stub& operations)
      : context_(std::move(context)), writer_(operations.RestoreVolume(context_.get(), &response_)) {}
  bool Write(const v1::RestoreVolumeRequest& message) override { return writer_->Write(message); }
  grpc::Status Finish(v1::RestoreVolumeResponse* response) override {
    writer_->WritesDone();
    grpc::Status status = writer_->Finish();
    *response = response_;
    return status;
  }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  v1::RestoreVolumeResponse response_;
  std::unique_ptr<grpc::ClientWriter<v1::RestoreVolumeRequest>> writer_;
};

// A gRPC bidirectional stream with the context it needs alive as long as it is used.
template <typename Request, typename Response>
class GrpcBidiStream : public BidiStream<Request, Response> {
 public:
  using Stream = grpc::ClientReaderWriter<Request, Response>;
  template <typename Open>
  GrpcBidiStream(std::unique_ptr<grpc::ClientContext> context, Open open)
      : context_(std::move(context)), stream_(open(context_.get())) {}
  bool Write(const Request& message) override { return stream_->Write(message); }
  bool WritesDone() override { return stream_->WritesDone(); }
  bool Read(Response* message) override { return stream_->Read(message); }
  grpc::Status Finish() override { return stream_->Finish(); }

 private:
  std::unique_ptr<grpc::ClientContext> context_;
  std::unique_ptr<Stream> stream_;
};

}  // namespace

ControllerClient::ControllerClient(std::string address, absl::Duration timeout,
                                   std::shared_ptr<grpc::ChannelCredentials> credentials)
    : address_(std::move(address)), timeout_(timeout) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(256 << 20);
  // The addresses were checked when the connection was resolved; what fails here fails on first use.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel = ControllerChannel(address_, credentials, arguments);
  channel_ = channel.ok() ? *channel : grpc::CreateCustomChannel(address_, credentials, arguments);
  stub_ = v1::Controller::NewStub(channel_);
  operations_ = v1::Operations::NewStub(channel_);
}

grpc::Status ControllerClient::List(const v1::ListRequest& request, v1::ListResponse* response) {
  return ListAllPages(request, kListPage, response, [this](const v1::ListRequest& page, v1::ListResponse* items) {
    return Call(&v1::Controller::Stub::List, page, items);
  });
}

std::unique_ptr<StreamReader<v1::WatchEvent>> ControllerClient::Watch(const v1::WatchRequest& request) {
  std::unique_ptr<grpc::ClientContext> context = NewContext(false);
  auto reader = stub_->Watch(context.get(), request);
  return std::make_unique<GrpcStreamReader<v1::WatchEvent>>(std::move(context), std::move(reader));
}

std::unique_ptr<StreamReader<v1::LogChunk>> ControllerClient::Logs(const v1::LogsRequest& request) {
  std::unique_ptr<grpc::ClientContext> context = NewContext(false);
  auto reader = operations_->Logs(context.get(), request);
  return std::make_unique<GrpcStreamReader<v1::LogChunk>>(std::move(context), std::move(reader));
}

std::unique_ptr<StreamReader<v1::DataChunk>> ControllerClient::BackupVolume(const v1::BackupVolumeRequest& request) {
  std::unique_ptr<grpc::ClientContext> context = NewContext(false);
  auto reader = operations_->BackupVolume(context.get(), request);
  return std::make_unique<GrpcStreamReader<v1::DataChunk>>(std::move(context), std::move(reader));
}

std::unique_ptr<RestoreWriter> ControllerClient::RestoreVolume() {
  return std::make_unique<GrpcRestoreWriter>(NewContext(false), *operations_);
}

grpc::Status ControllerClient::Top(const v1::TopRequest& request, v1::TopResponse* response) {
  std::unique_ptr<grpc::ClientContext> context = NewContext();
  return operations_->Top(context.get(), request, response);
}

std::unique_ptr<BidiStream<v1::ExecRequest, v1::ExecResponse>> ControllerClient::Exec() {
  return std::make_unique<GrpcBidiStream<v1::ExecRequest, v1::ExecResponse>>(
      NewContext(false), [this](grpc::ClientContext* context) { return operations_->Exec(context); });
}

std::unique_ptr<BidiStream<v1::PortForwardRequest, v1::PortForwardResponse>> ControllerClient::PortForward() {
  return std::make_unique<GrpcBidiStream<v1::PortForwardRequest, v1::PortForwardResponse>>(
      NewContext(false), [this](grpc::ClientContext* context) { return operations_->PortForward(context); });
}

std::unique_ptr<grpc::ClientContext> ControllerClient::NewContext(bool with_deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (with_deadline) context->set_deadline(absl::ToChronoTime(absl::Now() + timeout_));
  return context;
}

std::string ControllerClient::Explain(const grpc::Status& status) const {
  if (status.error_code() == grpc::StatusCode::UNAVAILABLE ||
      (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && status.error_message() == "Deadline Exceeded")) {
    return absl::StrCat("cannot reach the controller at ", address_, ": ", status.error_message(),
                        " (is opctl-controller running? set --server or OPCTL_SERVER)");
  }
  return status.error_message();
}

}  // namespace opctl::cli
