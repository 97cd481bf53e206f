#include "cli/client.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/list_pages.h"

namespace opctl::cli {

ControllerClient::ControllerClient(std::string address, absl::Duration timeout,
                                   std::shared_ptr<grpc::ChannelCredentials> credentials)
    : address_(std::move(address)), timeout_(timeout) {
  grpc::ChannelArguments arguments;
  arguments.SetMaxReceiveMessageSize(256 << 20);
  channel_ = grpc::CreateCustomChannel(address_, credentials, arguments);
  stub_ = v1::Controller::NewStub(channel_);
  operations_ = v1::Operations::NewStub(channel_);
}

grpc::Status ControllerClient::List(const v1::ListRequest& request, v1::ListResponse* response) const {
  return ListAllPages(request, kListPage, response, [this](const v1::ListRequest& page, v1::ListResponse* items) {
    return Call(&v1::Controller::Stub::List, page, items);
  });
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
