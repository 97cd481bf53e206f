// The gRPC API's limits, against a real controller: too many watches on one connection, a request
// over the message limit, and an object over the size limit sent past the CLI.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/object.h"
#include "opctl/v1/controller.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

using ::testing::HasSubstr;

struct OpenWatch {
  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader;
};

std::unique_ptr<OpenWatch> StartWatch(v1::Controller::Stub& stub) {
  auto watch = std::make_unique<OpenWatch>();
  watch->reader = stub.Watch(&watch->context, v1::WatchRequest());
  return watch;
}

v1::Object VolumeWithLabel(const std::string& name, size_t value_bytes) {
  v1::Object object;
  object.mutable_volume()->mutable_metadata()->set_name(name);
  (*object.mutable_volume()->mutable_metadata()->mutable_labels())["note"] = std::string(value_bytes, 'x');
  FillTypeMeta(&object);
  return object;
}

class ApiLimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Bookmarks every 50 ms, so an accepted watch shows itself at once.
    absl::StatusOr<std::unique_ptr<testing::ControllerProcess>> started = testing::ControllerProcess::Start(
        testing::MakeTempDir("opctl-limits"), 0,
        {"--max-watches-per-caller=3", "--max-message-bytes=262144", "--bookmark-interval=50ms"});
    ASSERT_TRUE(started.ok()) << started.status();
    controller_ = *std::move(started);
    stub_ = v1::Controller::NewStub(grpc::CreateChannel(controller_->address(), testing::UserCredentials()));
  }

  std::unique_ptr<testing::ControllerProcess> controller_;
  std::unique_ptr<v1::Controller::Stub> stub_;
};

TEST_F(ApiLimitsTest, ACallerMayHoldOnlySoManyWatchesOverAllItsConnections) {
  std::vector<std::unique_ptr<OpenWatch>> open;
  for (int i = 0; i < 3; ++i) {
    open.push_back(StartWatch(*stub_));
    v1::WatchEvent event;
    ASSERT_TRUE(open.back()->reader->Read(&event)) << "watch " << i << " was refused";
  }
  std::unique_ptr<OpenWatch> fourth = StartWatch(*stub_);
  v1::WatchEvent event;
  EXPECT_FALSE(fourth->reader->Read(&event));
  grpc::Status refused = fourth->reader->Finish();
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(refused.error_message(), HasSubstr("already has 3 watches open"));
  EXPECT_THAT(refused.error_message(), HasSubstr("--max-watches-per-caller"));
  // Another connection of the same caller (the same token) gets no more.
  auto other_stub =
      v1::Controller::NewStub(grpc::CreateCustomChannel(controller_->address(), testing::UserCredentials(), [] {
        grpc::ChannelArguments arguments;
        arguments.SetInt("opctl.test.fresh-connection", 1);
        return arguments;
      }()));
  std::unique_ptr<OpenWatch> elsewhere = StartWatch(*other_stub);
  EXPECT_FALSE(elsewhere->reader->Read(&event));
  EXPECT_EQ(elsewhere->reader->Finish().error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  // A caller with another token has its own allowance.
  auto viewer = v1::Controller::NewStub(
      grpc::CreateChannel(controller_->address(), testing::UserCredentials(testing::TestTls().view_token)));
  std::unique_ptr<OpenWatch> theirs = StartWatch(*viewer);
  EXPECT_TRUE(theirs->reader->Read(&event));
  theirs->context.TryCancel();

  // Ending one frees its place.
  open.back()->context.TryCancel();
  while (open.back()->reader->Read(&event)) {
  }
  open.back()->reader->Finish();
  open.pop_back();
  std::unique_ptr<OpenWatch> again;
  EXPECT_TRUE(testing::WaitFor(
      [&] {
        again = StartWatch(*stub_);
        if (again->reader->Read(&event)) return true;
        again->reader->Finish();
        return false;
      },
      absl::Seconds(10)));
  for (auto& watch : open) watch->context.TryCancel();
  if (again) again->context.TryCancel();
}

TEST_F(ApiLimitsTest, OversizedRequestsAndObjectsAreRefusedAndNothingIsStored) {
  // Over the connection's message limit (256 KiB here): refused by gRPC before any of it is read.
  v1::ApplyRequest request;
  *request.add_objects() = VolumeWithLabel("big", 300 * 1024);
  v1::ApplyResponse response;
  grpc::ClientContext too_big;
  grpc::Status status = stub_->Apply(&too_big, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(status.error_message(), HasSubstr("larger than max"));

  // A client that skips the CLI meets the same object rules on the server: a label value of 200 KiB
  // fits the message but not the rules.
  request.clear_objects();
  *request.add_objects() = VolumeWithLabel("wide", 200 * 1024);
  grpc::ClientContext invalid;
  status = stub_->Apply(&invalid, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("metadata.labels.note"));
  EXPECT_THAT(status.error_message(), HasSubstr("(204800 bytes) is too long"));
  EXPECT_LT(status.error_message().size(), 1024u) << "the value must not be echoed whole";

  v1::ListRequest list;
  list.set_kind("Volume");
  v1::ListResponse volumes;
  grpc::ClientContext listing;
  ASSERT_TRUE(stub_->List(&listing, list, &volumes).ok());
  EXPECT_EQ(volumes.items_size(), 0);
}

}  // namespace
}  // namespace opctl
