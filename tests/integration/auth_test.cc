// Authentication and authorisation against a real controller over TLS (certificates and tokens from
// scripts/gen-certs.sh): the CLI with no, a wrong, a view, an edit and an admin token; agents by
// their certificates, each confined to its own node; plaintext only when asked for by name.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"
#include "common/object.h"
#include "opctl/v1/agent.grpc.pb.h"
#include "opctl/v1/controller.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"

namespace opctl {
namespace {

using ::testing::HasSubstr;

constexpr char kNetwork[] =
    "apiVersion: opctl.io/v1\nkind: Network\nmetadata: {name: authnet}\nspec: {subnet: "
    "172.31.7.0/24}\n";

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::ControllerProcess::Start(testing::MakeTempDir("opctl-auth"));
    ASSERT_TRUE(started.ok()) << started.status();
    controller_ = *std::move(started);
  }

  // opctl with `token` (the flag wins over $OPCTL_TOKEN, which the test support sets to admin's).
  testing::CommandResult OpctlAs(const std::string& token, std::vector<std::string> arguments,
                                 const std::string& input = "") {
    arguments.insert(arguments.begin(), "--token=" + token);
    return controller_->Opctl(arguments, input);
  }

  std::unique_ptr<v1::Agent::Stub> AgentStub(const std::string& node) {
    return v1::Agent::NewStub(grpc::CreateChannel(controller_->address(), testing::AgentCredentials(node)));
  }
  std::unique_ptr<v1::Controller::Stub> ControllerStubAsAgent(const std::string& node) {
    return v1::Controller::NewStub(grpc::CreateChannel(controller_->address(), testing::AgentCredentials(node)));
  }

  grpc::Status Heartbeat(v1::Agent::Stub& stub, const std::string& node) {
    v1::HeartbeatRequest request;
    request.mutable_node()->mutable_metadata()->set_name(node);
    v1::HeartbeatResponse response;
    grpc::ClientContext context;
    return stub.Heartbeat(&context, request, &response);
  }

  std::unique_ptr<testing::ControllerProcess> controller_;
};

TEST_F(AuthTest, UsersNeedAKnownTokenAndARoleThatAllowsTheCall) {
  const testing::TestCertificates& tls = testing::TestTls();
  testing::CommandResult none = OpctlAs("", {"get", "networks"});
  EXPECT_NE(none.exit_code, 0);
  EXPECT_THAT(none.err, HasSubstr("no credentials"));
  testing::CommandResult wrong = OpctlAs("not-a-token-not-a-token", {"get", "networks"});
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_THAT(wrong.err, HasSubstr("not one this controller knows"));

  // view reads, and may not write.
  EXPECT_EQ(OpctlAs(tls.view_token, {"get", "networks"}).exit_code, 0);
  testing::CommandResult view_apply = OpctlAs(tls.view_token, {"apply", "-f", "-"}, kNetwork);
  EXPECT_NE(view_apply.exit_code, 0);
  EXPECT_THAT(view_apply.err, HasSubstr("user viewer (role view) may not apply: that needs role edit"));
  EXPECT_EQ(OpctlAs(tls.view_token, {"get", "networks", "-o", "name"}).out, "");

  // edit writes, and may not cordon.
  testing::CommandResult edit_apply = OpctlAs(tls.edit_token, {"apply", "-f", "-"}, kNetwork);
  EXPECT_EQ(edit_apply.exit_code, 0) << edit_apply.err;
  ASSERT_TRUE(Heartbeat(*AgentStub("host-a"), "host-a").ok());
  testing::CommandResult edit_cordon = OpctlAs(tls.edit_token, {"cordon", "node/host-a"});
  EXPECT_NE(edit_cordon.exit_code, 0);
  EXPECT_THAT(edit_cordon.err, HasSubstr("user editor (role edit) may not cordon"));
  // admin may.
  testing::CommandResult admin_cordon = OpctlAs(tls.admin_token, {"cordon", "node/host-a"});
  EXPECT_EQ(admin_cordon.exit_code, 0) << admin_cordon.err;
}

TEST_F(AuthTest, PlaintextAndUnverifiedServersAreRefused) {
  // The CLI will not talk plaintext unless told, and a plaintext client gets nowhere with TLS.
  testing::CommandResult no_ca = controller_->Opctl({"--ca=", "get", "networks"});
  EXPECT_EQ(no_ca.exit_code, 2);
  EXPECT_THAT(no_ca.err, HasSubstr("no CA to check the controller's certificate"));
  testing::CommandResult plaintext = controller_->Opctl({"--insecure", "get", "networks"});
  EXPECT_NE(plaintext.exit_code, 0);
  // The controller will not serve plaintext unless told.
  testing::CommandResult bare = testing::RunCommand(
      {testing::BinaryPath("opctl-controller"), "--listen=127.0.0.1:0", "--data-dir=" + testing::MakeTempDir("bare")});
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_THAT(bare.err, HasSubstr("give --tls-cert, --tls-key and --tls-client-ca"));
}

TEST_F(AuthTest, AnAgentSpeaksOnlyForItsOwnNode) {
  std::unique_ptr<v1::Agent::Stub> agent_a = AgentStub("host-a");
  ASSERT_TRUE(Heartbeat(*agent_a, "host-a").ok());
  ASSERT_TRUE(Heartbeat(*AgentStub("host-b"), "host-b").ok());
  grpc::Status impersonating = Heartbeat(*agent_a, "host-b");
  EXPECT_EQ(impersonating.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(impersonating.error_message(), HasSubstr("the agent of node host-a may not heartbeat for node host-b"));

  // host-a may neither list host-b's objects nor write the status of a container not bound to it.
  ASSERT_EQ(controller_
                ->Opctl({"apply", "-f", "-"},
                        "apiVersion: opctl.io/v1\nkind: Service\nmetadata: {name: web}\nspec:\n  replicas: 1\n"
                        "  nodeSelector: {only: b}\n  template: {image: opctl/busybox:test}\n")
                .exit_code,
            0);
  std::unique_ptr<v1::Controller::Stub> as_a = ControllerStubAsAgent("host-a");
  v1::ListRequest list;
  list.set_node_name("host-b");
  v1::ListResponse listed;
  grpc::ClientContext list_context;
  grpc::Status listing = as_a->List(&list_context, list, &listed);
  EXPECT_EQ(listing.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  list.set_node_name("host-a");
  grpc::ClientContext own_context;
  EXPECT_TRUE(as_a->List(&own_context, list, &listed).ok());
  list.clear_node_name();
  grpc::ClientContext all_context;
  EXPECT_EQ(as_a->List(&all_context, list, &listed).error_code(), grpc::StatusCode::PERMISSION_DENIED);

  v1::UpdateStatusRequest update;
  update.mutable_object()->mutable_container()->mutable_metadata()->set_name("web-0");
  update.mutable_object()->mutable_container()->mutable_status()->set_phase("Running");
  v1::Object updated;
  grpc::ClientContext update_context;
  grpc::Status writing = as_a->UpdateStatus(&update_context, update, &updated);
  EXPECT_EQ(writing.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(writing.error_message(),
              HasSubstr("the agent of node host-a may not write the status of container/web-0"));

  // Agents do not apply.
  v1::ApplyRequest apply;
  v1::Object network;
  network.mutable_network()->mutable_metadata()->set_name("sneaky");
  network.mutable_network()->mutable_spec()->set_subnet("172.31.9.0/24");
  FillTypeMeta(&network);
  *apply.add_objects() = network;
  v1::ApplyResponse applied;
  grpc::ClientContext apply_context;
  grpc::Status applying = as_a->Apply(&apply_context, apply, &applied);
  EXPECT_EQ(applying.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(applying.error_message(), HasSubstr("agents only read what their node runs"));
  EXPECT_EQ(controller_->Opctl({"get", "networks", "-o", "name"}).out, "");
}

}  // namespace
}  // namespace opctl
