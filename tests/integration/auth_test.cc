// Authentication and authorisation against a real controller over TLS (certificates and tokens from
// scripts/gen-certs.sh): the CLI with no, a wrong, a view, an edit and an admin token; agents by
// their certificates, each confined to its own node; plaintext only when asked for by name.
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "absl/strings/str_cat.h"
#include "common/object.h"
#include "opctl/v1/agent.grpc.pb.h"
#include "opctl/v1/controller.grpc.pb.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

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

// The audit's M2 and M6: an agent releases only its own node's part of a Volume's deletion, reports
// only on volumes its node holds and only its own backups, and no agent reports another node gone.
TEST_F(AuthTest, AnAgentTouchesOnlyVolumesAndFinalizersOfItsOwnNode) {
  ASSERT_EQ(controller_->Opctl({"apply", "-f", "-"}, "apiVersion: opctl.io/v1\nkind: Volume\nmetadata: {name: vdata}\n")
                .exit_code,
            0);
  // host-a holds vdata (its heartbeat says so); host-b does not.
  v1::HeartbeatRequest beat;
  beat.mutable_node()->mutable_metadata()->set_name("host-a");
  beat.mutable_node()->mutable_status()->add_volumes("vdata");
  v1::HeartbeatResponse answer;
  grpc::ClientContext beat_context;
  ASSERT_TRUE(AgentStub("host-a")->Heartbeat(&beat_context, beat, &answer).ok());
  ASSERT_TRUE(Heartbeat(*AgentStub("host-b"), "host-b").ok());
  auto volume_status = [&](const std::string& node, const std::string& backup_node) {
    v1::UpdateStatusRequest update;
    update.mutable_object()->mutable_volume()->mutable_metadata()->set_name("vdata");
    update.mutable_object()->mutable_volume()->mutable_status()->mutable_last_backup()->set_node_name(backup_node);
    v1::Object updated;
    grpc::ClientContext context;
    return ControllerStubAsAgent(node)->UpdateStatus(&context, update, &updated);
  };
  // The node monitor writes the Node in the background: wait until it lists the volume.
  ASSERT_TRUE(testing::WaitFor([&] { return volume_status("host-a", "host-a").ok(); }, absl::Seconds(10)));
  grpc::Status not_held = volume_status("host-b", "host-b");
  EXPECT_EQ(not_held.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(not_held.error_message(), HasSubstr("its node does not hold that volume"));
  grpc::Status forged = volume_status("host-a", "host-b");
  EXPECT_EQ(forged.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(forged.error_message(), HasSubstr("may not report a backup run by node host-b"));

  // Deleting with the data: one finalizer per node. host-b may release its own, not host-a's.
  ASSERT_EQ(controller_->Opctl({"delete", "volume", "vdata", "--delete-data"}).exit_code, 0);
  auto release = [&](const std::string& as, const std::string& finalizer) {
    v1::ReleaseFinalizerRequest request;
    request.set_kind("Volume");
    request.set_name("vdata");
    request.set_finalizer(finalizer);
    request.set_node_name(as);
    v1::Object released;
    grpc::ClientContext context;
    return AgentStub(as)->ReleaseFinalizer(&context, request, &released);
  };
  grpc::Status theirs = release("host-b", DeleteDataFinalizer("host-a"));
  EXPECT_EQ(theirs.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(theirs.error_message(), HasSubstr("may release only its own finalizer delete-data.opctl.io/host-b"));
  EXPECT_TRUE(release("host-b", DeleteDataFinalizer("host-b")).ok());
  EXPECT_EQ(controller_->Opctl({"get", "volume", "vdata"}).exit_code, 0) << "host-a still holds the data";
  EXPECT_TRUE(release("host-a", DeleteDataFinalizer("host-a")).ok());
  EXPECT_NE(controller_->Opctl({"get", "volume", "vdata"}).exit_code, 0) << "gone with the last finalizer";

  // The fence guard's report is its own node's only.
  v1::AgentGoneRequest gone;
  gone.set_node_name("host-b");
  v1::AgentGoneResponse gone_response;
  grpc::ClientContext gone_context;
  EXPECT_EQ(AgentStub("host-a")->AgentGone(&gone_context, gone, &gone_response).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Every write of the API checks the role, not only apply and cordon.
TEST_F(AuthTest, ViewAndEditRolesAreCheckedOnEveryWrite) {
  const testing::TestCertificates& tls = testing::TestTls();
  ASSERT_TRUE(Heartbeat(*AgentStub("host-a"), "host-a").ok());
  ASSERT_EQ(OpctlAs(tls.edit_token, {"apply", "-f", "-"},
                    "apiVersion: opctl.io/v1\nkind: Service\nmetadata: {name: web}\nspec:\n  replicas: 1\n"
                    "  template: {image: opctl/busybox:test}\n")
                .exit_code,
            0);
  struct Refusal {
    std::string token;
    std::vector<std::string> arguments;
    std::string says;
  };
  for (const Refusal& refusal : std::vector<Refusal>{
           {tls.view_token, {"delete", "service", "web"}, "may not delete: that needs role edit"},
           {tls.view_token, {"scale", "service/web", "--replicas", "2"}, "may not scale: that needs role edit"},
           {tls.view_token, {"volume", "backup", "vnothing", "-o", "/dev/null"}, "may not back up a volume"},
           {tls.edit_token, {"drain", "node/host-a"}, "may not cordon or uncordon a node: that needs role admin"},
           {tls.edit_token, {"volume", "restore", "vnothing", "-f", "/dev/null"}, "may not restore a volume"},
           {tls.view_token, {"exec", "web-0", "--", "true"}, "may not exec in containers: that needs role edit"},
           {tls.view_token, {"exec", "-it", "web-0", "--", "sh"}, "may not exec in containers: that needs role edit"},
       }) {
    testing::CommandResult result = OpctlAs(refusal.token, refusal.arguments);
    EXPECT_NE(result.exit_code, 0) << refusal.arguments[0];
    EXPECT_THAT(result.err, HasSubstr(refusal.says)) << refusal.arguments[0];
  }
  // Status and eviction by a user need admin too, straight over gRPC.
  auto as_editor =
      v1::Controller::NewStub(grpc::CreateChannel(controller_->address(), testing::UserCredentials(tls.edit_token)));
  v1::UpdateStatusRequest update;
  update.mutable_object()->mutable_service()->mutable_metadata()->set_name("web");
  v1::Object updated;
  grpc::ClientContext update_context;
  EXPECT_EQ(as_editor->UpdateStatus(&update_context, update, &updated).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::EvictRequest evict;
  evict.set_name("web-0");
  grpc::ClientContext evict_context;
  EXPECT_EQ(as_editor->Evict(&evict_context, evict, &updated).error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

// Whoever reads the tokens file is admin: one that others may read is refused at start.
TEST(AuthStart, ATokensFileOthersMayReadIsRefused) {
  std::string dir = testing::MakeTempDir("opctl-auth-tokens");
  std::string tokens = dir + "/tokens.csv";
  ASSERT_EQ(testing::RunCommand({"cp", testing::TestTls().tokens, tokens}).exit_code, 0);
  ASSERT_EQ(chmod(tokens.c_str(), 0644), 0);
  std::vector<std::string> flags = testing::ControllerTlsFlags();
  for (std::string& flag : flags) {
    if (flag.rfind("--tokens=", 0) == 0) flag = "--tokens=" + tokens;
  }
  std::vector<std::string> argv = {testing::BinaryPath("opctl-controller"), "--listen=127.0.0.1:0",
                                   "--data-dir=" + dir + "/data"};
  argv.insert(argv.end(), flags.begin(), flags.end());
  testing::CommandResult refused = testing::RunCommand(argv);
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("may be read or written by others (mode 0644): chmod 600 it"));
}

}  // namespace
}  // namespace opctl
