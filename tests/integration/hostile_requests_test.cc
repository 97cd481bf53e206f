// Hostile messages straight over gRPC, past the CLI and its checks, to a real controller: huge
// strings in every string field of every kind, huge maps and lists, deep nesting, 100 000 objects in
// one Apply, wrong kinds, oversized statuses and heartbeats, bad watch requests. Each must get a clear
// INVALID_ARGUMENT or RESOURCE_EXHAUSTED, nothing may be stored, and the controller must go on serving
// (the audit's H1: one Apply with a 200 000-character env name killed it).
#include <gmock/gmock.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>

#include <functional>

#include "absl/strings/str_cat.h"
#include "common/object.h"
#include "opctl/v1/agent.grpc.pb.h"
#include "opctl/v1/controller.grpc.pb.h"
#include "opctl/v1/operations.grpc.pb.h"
#include "tests/support/every_field.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

constexpr size_t kHuge = 200000;
constexpr char kNode[] = "hostile-node";

class HostileRequestsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto started = testing::ControllerProcess::Start(testing::MakeTempDir("opctl-hostile"));
    ASSERT_TRUE(started.ok()) << started.status();
    controller_ = *std::move(started);
    user_ = v1::Controller::NewStub(grpc::CreateChannel(controller_->address(), testing::UserCredentials()));
    agent_ = v1::Agent::NewStub(grpc::CreateChannel(controller_->address(), testing::AgentCredentials(kNode)));
    as_agent_ = v1::Controller::NewStub(grpc::CreateChannel(controller_->address(), testing::AgentCredentials(kNode)));
  }

  void TearDown() override {
    // Nothing any of it sent was stored, and the controller still answers.
    v1::ListRequest list;
    list.set_kind("Service");
    v1::ListResponse listed;
    grpc::ClientContext context;
    ASSERT_TRUE(user_->List(&context, list, &listed).ok());
    EXPECT_EQ(listed.items_size(), 0);
    EXPECT_TRUE(controller_->process().Running());
    std::printf(
        "hostile gRPC messages: %d sent by %s, each refused with INVALID_ARGUMENT or RESOURCE_EXHAUSTED; "
        "the controller kept serving\n",
        sent_, ::testing::UnitTest::GetInstance()->current_test_info()->name());
  }

  // Records one hostile call's answer: refused clearly, briefly, and the controller alive after it.
  void Refused(const grpc::Status& status, const std::string& what) {
    ++sent_;
    EXPECT_THAT(status.error_code(),
                ::testing::AnyOf(grpc::StatusCode::INVALID_ARGUMENT, grpc::StatusCode::RESOURCE_EXHAUSTED))
        << what << ": " << status.error_message().substr(0, 300);
    EXPECT_LT(status.error_message().size(), 8192u) << what << ": the answer repeats the input";
    // The field errors travel in a trailer too: a copy of the input there breaks the client's connection.
    EXPECT_LT(status.error_details().size(), 8192u) << what << ": the field errors repeat the input";
    v1::GetRequest get;
    get.set_kind("Service");
    get.set_name("nothing");
    v1::Object object;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    ASSERT_EQ(user_->Get(&context, get, &object).error_code(), grpc::StatusCode::NOT_FOUND)
        << "the controller stopped answering after " << what;
  }

  grpc::Status Apply(const std::vector<v1::Object>& objects) {
    v1::ApplyRequest request;
    for (const v1::Object& object : objects) *request.add_objects() = object;
    v1::ApplyResponse response;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    return user_->Apply(&context, request, &response);
  }

  std::unique_ptr<testing::ControllerProcess> controller_;
  std::unique_ptr<v1::Controller::Stub> user_, as_agent_;
  std::unique_ptr<v1::Agent::Stub> agent_;
  int sent_ = 0;
};

// Every string field of every kind, one at a time: 200 000 bytes of one letter, and of a pattern that
// no rule accepts, so each rule that reads the value sees the worst case.
TEST_F(HostileRequestsTest, HugeStringsInEveryFieldOfEveryKind) {
  for (const KindInfo& kind : AllKinds()) {
    v1::Object full;
    MutableInner(&full, kind.kind);
    testing::FillEveryField(&full);
    int strings = testing::CountStrings(full);
    ASSERT_GT(strings, 3) << kind.kind;
    for (int i = 0; i < strings; ++i) {
      for (const std::string& huge : {std::string(kHuge, 'A'), std::string(kHuge - 1, 'a') + "!"}) {
        v1::Object object = full;
        std::string path;
        ASSERT_TRUE(testing::SetString(&object, i, huge, &path));
        Refused(Apply({object}), absl::StrCat(kind.kind, " ", path));
      }
    }
  }
  // The audit's own request: one env variable whose name is 200 000 characters long.
  v1::Object service;
  service.mutable_service()->mutable_metadata()->set_name("web");
  service.mutable_service()->mutable_spec()->mutable_template_()->set_image("opctl/busybox:test");
  service.mutable_service()->mutable_spec()->mutable_template_()->add_env()->set_name(std::string(kHuge, 'A'));
  Refused(Apply({service}), "the audit's env name");
  service.mutable_service()->mutable_spec()->mutable_template_()->mutable_env(0)->set_name(std::string(100000, 'A'));
  Refused(Apply({service}), "an env name of 100 000 characters, under the string bound");
}

TEST_F(HostileRequestsTest, HugeMapsAndLists) {
  auto service = [] {
    v1::Object object;
    object.mutable_service()->mutable_metadata()->set_name("web");
    object.mutable_service()->mutable_spec()->mutable_template_()->set_image("opctl/busybox:test");
    return object;
  };
  v1::Object labels = service();
  for (int i = 0; i < 100000; ++i)
    (*labels.mutable_service()->mutable_metadata()->mutable_labels())[absl::StrCat("k", i)] = "v";
  Refused(Apply({labels}), "100 000 labels");
  v1::Object annotations = service();
  for (int i = 0; i < 100000; ++i) {
    (*annotations.mutable_service()->mutable_metadata()->mutable_annotations())[absl::StrCat("a", i)] = "v";
  }
  Refused(Apply({annotations}), "100 000 annotations");
  v1::Object env = service();
  for (int i = 0; i < 100000; ++i) {
    v1::EnvVar* variable = env.mutable_service()->mutable_spec()->mutable_template_()->add_env();
    variable->set_name(absl::StrCat("V", i));
    variable->set_value("x");
  }
  Refused(Apply({env}), "100 000 env variables");
  v1::Object addresses = service();
  addresses.mutable_service()->mutable_spec()->mutable_network()->set_name("net");
  for (int i = 0; i < 100000; ++i)
    addresses.mutable_service()->mutable_spec()->mutable_network()->add_addresses("10.0.0.2");
  Refused(Apply({addresses}), "100 000 addresses");
  v1::Object capabilities = service();
  for (int i = 0; i < 100000; ++i) {
    capabilities.mutable_service()
        ->mutable_spec()
        ->mutable_template_()
        ->mutable_security_context()
        ->mutable_capabilities()
        ->add_add("NET_ADMIN");
  }
  Refused(Apply({capabilities}), "100 000 capabilities");
  v1::Object mounts = service();
  for (int i = 0; i < 50000; ++i) {
    v1::VolumeMount* mount = mounts.mutable_service()->mutable_spec()->mutable_template_()->add_volume_mounts();
    mount->set_name(absl::StrCat("v", i));
    mount->set_mount_path(absl::StrCat("/m", i));
  }
  Refused(Apply({mounts}), "50 000 volume mounts");
  v1::Object selector = service();
  for (int i = 0; i < 100000; ++i)
    (*selector.mutable_service()->mutable_spec()->mutable_node_selector())[absl::StrCat("n", i)] = "v";
  Refused(Apply({selector}), "a node selector of 100 000 labels");
}

TEST_F(HostileRequestsTest, HundredThousandObjectsInOneApplyAndWrongKinds) {
  std::vector<v1::Object> many(100000);
  for (size_t i = 0; i < many.size(); ++i) many[i].mutable_volume()->mutable_metadata()->set_name(absl::StrCat("v", i));
  Refused(Apply(many), "100 000 objects");
  Refused(Apply({v1::Object()}), "an object of no kind");
  v1::Object container;
  container.mutable_container()->mutable_metadata()->set_name("c");
  Refused(Apply({container}), "a Container");
  v1::Object node;
  node.mutable_node()->mutable_metadata()->set_name("n");
  Refused(Apply({node}), "a Node");
  // Deep nesting, as a hostile encoder can write it: groups of unknown fields 10 000 deep.
  v1::Object nested;
  nested.mutable_volume()->mutable_metadata()->set_name("deep");
  google::protobuf::UnknownFieldSet* level =
      nested.mutable_volume()->GetReflection()->MutableUnknownFields(nested.mutable_volume());
  for (int depth = 0; depth < 10000; ++depth) level = level->AddGroup(1000);
  Refused(Apply({nested}), "groups 10 000 deep");
}

TEST_F(HostileRequestsTest, StatusesAndHeartbeatsAreBoundedLikeApplies) {
  // An agent's heartbeat: its node's labels are checked as labels, and bounded.
  auto heartbeat = [&](const v1::Node& node) {
    v1::HeartbeatRequest request;
    *request.mutable_node() = node;
    v1::HeartbeatResponse response;
    grpc::ClientContext context;
    return agent_->Heartbeat(&context, request, &response);
  };
  v1::Node node;
  node.mutable_metadata()->set_name(kNode);
  ASSERT_TRUE(heartbeat(node).ok());
  v1::Node many_labels = node;
  for (int i = 0; i < 100000; ++i) (*many_labels.mutable_metadata()->mutable_labels())[absl::StrCat("k", i)] = "v";
  Refused(heartbeat(many_labels), "a heartbeat with 100 000 labels");
  v1::Node bad_label = node;
  (*bad_label.mutable_metadata()->mutable_labels())["bad key!"] = std::string(kHuge, 'x');
  Refused(heartbeat(bad_label), "a heartbeat with a huge, bad label");
  v1::Node negative = node;
  negative.mutable_status()->mutable_capacity()->set_memory_bytes(-1);
  Refused(heartbeat(negative), "a heartbeat with negative memory");
  v1::HeartbeatRequest deep;
  *deep.mutable_node() = node;
  google::protobuf::UnknownFieldSet* level =
      deep.mutable_node()->GetReflection()->MutableUnknownFields(deep.mutable_node());
  for (int depth = 0; depth < 10000; ++depth) level = level->AddGroup(1000);
  v1::HeartbeatResponse ignored;
  grpc::ClientContext deep_context;
  Refused(agent_->Heartbeat(&deep_context, deep, &ignored), "a heartbeat nested 10 000 deep");
  v1::Node volumes = node;
  for (int i = 0; i < 20000; ++i) volumes.mutable_status()->add_volumes(absl::StrCat("v", i));
  Refused(heartbeat(volumes), "a heartbeat holding 20 000 volumes");

  // Status writes: an admin's into a Volume, an agent's into its Node; huge and long.
  v1::Object volume;
  volume.mutable_volume()->mutable_metadata()->set_name("vdata");
  ASSERT_TRUE(Apply({volume}).ok());
  auto update_status = [](v1::Controller::Stub& stub, const v1::Object& object) {
    v1::UpdateStatusRequest request;
    *request.mutable_object() = object;
    v1::Object response;
    grpc::ClientContext context;
    return stub.UpdateStatus(&context, request, &response);
  };
  v1::Object huge_error = volume;
  huge_error.mutable_volume()->mutable_status()->mutable_last_backup()->set_error(std::string(kHuge, 'e'));
  Refused(update_status(*user_, huge_error), "a Volume status with a 200 000-byte error");
  v1::Object conditions = volume;
  for (int i = 0; i < 100000; ++i) conditions.mutable_volume()->mutable_status()->add_conditions()->set_type("T");
  Refused(update_status(*user_, conditions), "a Volume status of 100 000 conditions");
  v1::Object own_node;
  own_node.mutable_node()->mutable_metadata()->set_name(kNode);
  own_node.mutable_node()->mutable_status()->set_docker_version(std::string(kHuge, 'd'));
  Refused(update_status(*as_agent_, own_node), "a Node status with a 200 000-byte version");
  v1::Object unknown_kind;
  Refused(update_status(*user_, unknown_kind), "a status of no kind");
  // The stored Volume is as applied.
  v1::GetRequest get;
  get.set_kind("Volume");
  get.set_name("vdata");
  v1::Object stored;
  grpc::ClientContext get_context;
  ASSERT_TRUE(user_->Get(&get_context, get, &stored).ok());
  EXPECT_FALSE(stored.volume().status().has_last_backup());
  // Cleaned, so the teardown's check sees none of this test's objects.
  v1::DeleteRequest remove;
  remove.set_kind("Volume");
  remove.set_name("vdata");
  v1::DeleteResponse removed;
  grpc::ClientContext delete_context;
  ASSERT_TRUE(user_->Delete(&delete_context, remove, &removed).ok());
}

TEST_F(HostileRequestsTest, EventReportsAreCheckedWholeAndUsersCannotWriteEvents) {
  auto report = [&](const std::vector<v1::Event>& events) {
    v1::ReportEventsRequest request;
    request.set_node_name(kNode);
    for (const v1::Event& event : events) *request.add_events() = event;
    v1::ReportEventsResponse response;
    grpc::ClientContext context;
    return agent_->ReportEvents(&context, request, &response);
  };
  v1::Event good;
  good.mutable_involved_object()->set_kind("Container");
  good.mutable_involved_object()->set_name("web-0");
  good.set_reason("BackOff");
  good.set_type("Warning");
  good.set_count(3);
  good.set_first_timestamp("2026-12-01T00:00:00Z");
  good.set_last_timestamp("2026-12-01T00:00:01.5Z");
  // Each bad field is named; a report with one bad Event takes none of the report.
  std::vector<std::pair<std::string, std::function<void(v1::Event&)>>> bad = {
      {"events[1].reason", [](v1::Event& e) { e.set_reason("not camel case"); }},
      {"events[1].type", [](v1::Event& e) { e.set_type("Fatal"); }},
      {"events[1].count", [](v1::Event& e) { e.set_count(0); }},
      {"events[1].involvedObject.kind", [](v1::Event& e) { e.mutable_involved_object()->set_kind("Event"); }},
      {"events[1].involvedObject.name", [](v1::Event& e) { e.mutable_involved_object()->clear_name(); }},
      {"events[1].lastTimestamp", [](v1::Event& e) { e.set_last_timestamp("yesterday"); }},
      {"events[1].message", [](v1::Event& e) { e.set_message(std::string(kHuge, 'm')); }},
  };
  for (const auto& [field, spoil] : bad) {
    v1::Event event = good;
    spoil(event);
    grpc::Status status = report({good, event});
    Refused(status, "an Event report with a bad " + field);
    EXPECT_THAT(status.error_message(), ::testing::HasSubstr(field));
  }
  Refused(report(std::vector<v1::Event>(1001, good)), "a report of 1001 Events");
  // Another node's agent may not speak for this one.
  v1::ReportEventsRequest other;
  other.set_node_name("another-node");
  v1::ReportEventsResponse response;
  grpc::ClientContext other_context;
  EXPECT_EQ(agent_->ReportEvents(&other_context, other, &response).error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // Users list Events; they do not apply them.
  v1::Object event;
  event.mutable_event()->mutable_metadata()->set_name("made-up");
  grpc::Status applied = Apply({event});
  Refused(applied, "an applied Event");
  EXPECT_THAT(applied.error_message(), ::testing::HasSubstr("Events are written by opctl"));
  // None of it was stored; a good report is (after the controller's flush).
  auto events = [&] {
    v1::ListRequest list;
    list.set_kind("events");
    list.set_field_selector("involvedObject.name=web-0,reason=BackOff");
    v1::ListResponse listed;
    grpc::ClientContext context;
    EXPECT_TRUE(user_->List(&context, list, &listed).ok());
    return listed;
  };
  EXPECT_EQ(events().items_size(), 0);
  ASSERT_TRUE(report({good}).ok());
  ASSERT_TRUE(testing::WaitFor([&] { return events().items_size() == 1; }, absl::Seconds(10)));
  v1::Event stored = events().items(0).event();
  EXPECT_EQ(stored.count(), 3);
  EXPECT_EQ(stored.reporting_node(), kNode);
  v1::ListRequest bad_selector;
  bad_selector.set_kind("Event");
  bad_selector.set_field_selector("spec.nothing=1");
  v1::ListResponse listed;
  grpc::ClientContext selector_context;
  grpc::Status selected = user_->List(&selector_context, bad_selector, &listed);
  Refused(selected, "an unknown field selector");
  EXPECT_THAT(selected.error_message(), ::testing::HasSubstr("spec.nothing"));
}

TEST_F(HostileRequestsTest, BadWatchRequests) {
  auto watch = [&](const v1::WatchRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader = user_->Watch(&context, request);
    v1::WatchEvent event;
    while (reader->Read(&event)) {
    }
    return reader->Finish();
  };
  v1::WatchRequest huge_selector;
  huge_selector.set_label_selector(absl::StrCat("a notin (", std::string(kHuge, 'b'), ")"));
  Refused(watch(huge_selector), "a 200 000-byte label selector");
  v1::WatchRequest many_values;
  std::string values;
  for (int i = 0; i < 30000; ++i) absl::StrAppend(&values, i ? "," : "", "v", i);
  many_values.set_label_selector(absl::StrCat("a in (", values, ")"));
  Refused(watch(many_values), "a selector with 30 000 values");
  v1::WatchRequest unknown;
  unknown.set_kind(std::string(kHuge, 'K'));
  Refused(watch(unknown), "a watch of a 200 000-byte kind");
  v1::WatchRequest broken;
  broken.set_label_selector("a in (b");
  Refused(watch(broken), "an unclosed selector");
}

TEST_F(HostileRequestsTest, BadExecAndPortForwardStreams) {
  auto operations = v1::Operations::NewStub(grpc::CreateChannel(controller_->address(), testing::UserCredentials()));
  // Each stream sends its messages, half-closes, and reads to the end.
  auto exec = [&](const std::vector<v1::ExecRequest>& messages) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = operations->Exec(&context);
    for (const v1::ExecRequest& message : messages) stream->Write(message);
    stream->WritesDone();
    v1::ExecResponse response;
    while (stream->Read(&response)) {
    }
    return stream->Finish();
  };
  auto forward = [&](const std::vector<v1::PortForwardRequest>& messages) {
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    auto stream = operations->PortForward(&context);
    for (const v1::PortForwardRequest& message : messages) stream->Write(message);
    stream->WritesDone();
    v1::PortForwardResponse response;
    while (stream->Read(&response)) {
    }
    return stream->Finish();
  };
  Refused(exec({}), "an exec stream with no message");
  v1::ExecRequest input_first;
  input_first.set_stdin(std::string(kHuge, 'x'));
  Refused(exec({input_first}), "an exec whose first message is stdin");
  v1::ExecRequest volume;
  volume.mutable_start()->set_kind("Volume");
  volume.mutable_start()->set_name(std::string(kHuge, 'v'));
  volume.mutable_start()->add_command("true");
  Refused(exec({volume, input_first}), "an exec in a Volume");
  Refused(forward({}), "a port-forward stream with no message");
  for (int port : {0, -1, 65536, 1 << 30}) {
    v1::PortForwardRequest target;
    target.mutable_target()->set_name("web-0");
    target.mutable_target()->set_port(port);
    Refused(forward({target}), absl::StrCat("a port-forward to port ", port));
  }
  v1::PortForwardRequest data_first;
  data_first.set_data(std::string(kHuge, 'd'));
  Refused(forward({data_first}), "a port-forward whose first message is data");
}

}  // namespace
}  // namespace opctl
