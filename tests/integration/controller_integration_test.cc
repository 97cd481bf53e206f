// The real opctl-controller binary on a loopback port, driven through gRPC and through the opctl CLI.
#include <gmock/gmock.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <fstream>
#include <future>
#include <random>
#include <set>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/object.h"
#include "opctl/v1/agent.grpc.pb.h"
#include "opctl/v1/controller.grpc.pb.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl {
namespace {

using testing::ControllerProcess;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Sample;
using testing::SourcePath;
using testing::WaitFor;

// Valid alone, but its Service names a network that does not exist: only the controller can tell
// (spec.network.name is on line 15).
constexpr char kDanglingNetworkReference[] = R"(apiVersion: opctl.io/v1
kind: Network
metadata:
  name: good-net
spec:
  subnet: 10.5.0.0/24
---
apiVersion: opctl.io/v1
kind: Service
metadata:
  name: web
spec:
  replicas: 1
  network:
    name: no-such-net
  template:
    image: busybox
)";

class ControllerIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override { StartController(); }

  void StartController(int port = 0) {
    controller_.reset();
    auto started = ControllerProcess::Start(data_dir_, port);
    ASSERT_TRUE(started.ok()) << started.status();
    controller_ = *std::move(started);
    stub_ = v1::Controller::NewStub(grpc::CreateChannel(controller_->address(), testing::UserCredentials()));
  }

  std::string WriteFile(const std::string& name, const std::string& text) {
    std::string path = absl::StrCat(data_dir_, "/", name);
    std::ofstream(path) << text;
    return path;
  }

  int CountLines(const std::string& text, const std::string& needle) {
    int count = 0;
    for (absl::string_view line : absl::StrSplit(text, '\n')) count += absl::StrContains(line, needle) ? 1 : 0;
    return count;
  }

  static v1::Object Network(const std::string& name, int index) {
    v1::Object object;
    object.mutable_network()->mutable_metadata()->set_name(name);
    object.mutable_network()->mutable_spec()->set_subnet(absl::StrCat("10.", index / 250, ".", index % 250, ".0/24"));
    return object;
  }

  // Apply is idempotent, so a call that met a connection broken by a restart is simply sent again.
  grpc::Status ApplyOne(v1::Controller::Stub& stub, const v1::Object& object, v1::ApplyResponse* response,
                        bool retry = true) {
    grpc::Status status;
    for (int attempt = 0; attempt < (retry ? 5 : 1); ++attempt) {
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
      context.set_wait_for_ready(retry);
      v1::ApplyRequest request;
      *request.add_objects() = object;
      status = stub.Apply(&context, request, response);
      if (status.error_code() != grpc::StatusCode::UNAVAILABLE) break;
    }
    return status;
  }

  std::string data_dir_ = testing::MakeTempDir("opctl-it");
  std::unique_ptr<ControllerProcess> controller_;
  std::unique_ptr<v1::Controller::Stub> stub_;
};

TEST_F(ControllerIntegrationTest, ApplyGetDeleteTheRedisStackThroughTheCli) {
  testing::CommandResult applied = controller_->Opctl({"apply", "-f", SourcePath("manifests/redis.yaml")});
  ASSERT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_EQ(applied.out,
            "network/redis-net created\nvolume/redis_master_data created\nservice/redis-master created\n"
            "service/redis-replica created\nservice/redis-sentinel created\n");
  // The service controller expands the services into six Containers, Pending until an agent exists.
  ASSERT_TRUE(WaitFor(
      [&] {
        return CountLines(controller_->Opctl({"get", "containers"}).out, "Pending") == 6;
      },
      absl::Seconds(10)));
  testing::CommandResult containers = controller_->Opctl({"get", "ctr", "-o", "wide"});
  EXPECT_THAT(containers.out, HasSubstr("redis-replica-1"));
  EXPECT_THAT(containers.out, HasSubstr("172.19.0.7"));

  testing::CommandResult again = controller_->Opctl({"apply", "-f", SourcePath("manifests/redis.yaml")});
  EXPECT_EQ(CountLines(again.out, "unchanged"), 5) << again.out;

  testing::CommandResult masters = controller_->Opctl({"get", "svc", "-l", "role=master", "-o", "name"});
  EXPECT_EQ(masters.out, "service/redis-master\n");
  testing::CommandResult json = controller_->Opctl({"get", "service", "redis-master", "-o", "json"});
  EXPECT_THAT(json.out, HasSubstr("\"memoryLimit\": \"2g\""));
  EXPECT_THAT(json.out, Not(HasSubstr("\"List\"")));
  EXPECT_THAT(controller_->Opctl({"get", "services", "-o", "json"}).out, HasSubstr("\"kind\": \"List\""));
  EXPECT_THAT(controller_->Opctl({"describe", "svc", "redis-replica"}).out, HasSubstr("redis-replica-1"));

  testing::CommandResult scaled = controller_->Opctl({"scale", "service/redis-sentinel", "--replicas", "1"});
  EXPECT_EQ(scaled.exit_code, 0) << scaled.err;
  EXPECT_TRUE(WaitFor(
      [&] {
        return CountLines(controller_->Opctl({"get", "containers"}).out, "redis-sentinel") == 1;
      },
      absl::Seconds(10)));

  testing::CommandResult deleted = controller_->Opctl({"delete", "-f", SourcePath("manifests/redis.yaml")});
  ASSERT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_THAT(deleted.out, HasSubstr("container/redis-master-0 deleted"));
  EXPECT_THAT(deleted.out, HasSubstr("network/redis-net deleted"));
  EXPECT_EQ(controller_->Opctl({"get", "containers", "-o", "name"}).out, "");
  // Per-replica volumes outlive their service.
  EXPECT_THAT(controller_->Opctl({"get", "volumes", "-o", "name"}).out, HasSubstr("volume/data-redis-replica-0"));
  testing::CommandResult missing = controller_->Opctl({"get", "svc", "redis-master"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("service/redis-master not found"));
}

TEST_F(ControllerIntegrationTest, OneBadDocumentAndNothingIsStored) {
  std::string path = WriteFile("bad.yaml", R"(apiVersion: opctl.io/v1
kind: Network
metadata:
  name: good-net
spec:
  subnet: 10.5.0.0/24
---
apiVersion: opctl.io/v1
kind: Service
metadata:
  name: web
spec:
  replicas: 1
  template:
    image: busybox
    resources:
      memoryLimit: 2x
)");
  testing::CommandResult result = controller_->Opctl({"apply", "-f", path});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr(absl::StrCat(path,
                                                 ":17: service/web spec.template.resources.memoryLimit: \"2x\" "
                                                 "is not a memory quantity")));
  EXPECT_EQ(controller_->Opctl({"get", "networks", "-o", "name"}).out, "");

  // Errors only the controller can see (a reference to nothing) come back with file and line too.
  std::string dangling = WriteFile("dangling.yaml", kDanglingNetworkReference);
  result = controller_->Opctl({"apply", "-f", dangling});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr(absl::StrCat(dangling,
                                                 ":15: service/web spec.network.name: network "
                                                 "\"no-such-net\" does not exist")));
  EXPECT_EQ(controller_->Opctl({"get", "networks", "-o", "name"}).out, "");
}

// `opctl diff` is apply's dry run shown as `diff -u`: every change apply would make and nothing else,
// with kubectl's exit codes, and nothing stored.
TEST_F(ControllerIntegrationTest, DiffShowsWhatApplyWouldChangeAndStoresNothing) {
  std::string redis = SourcePath("manifests/redis.yaml");
  testing::CommandResult fresh = controller_->Opctl({"diff", "-f", redis});
  EXPECT_EQ(fresh.exit_code, 1) << fresh.err;
  EXPECT_THAT(fresh.out, HasSubstr("--- live/service/redis-master\n+++ applied/service/redis-master\n@@ -0,0 +1,"));
  EXPECT_THAT(fresh.out, HasSubstr("\n+  name: redis-master\n"));
  EXPECT_EQ(CountLines(fresh.out, "--- live/"), 5) << fresh.out;
  EXPECT_EQ(controller_->Opctl({"get", "all", "-o", "name"}).out, "");

  ASSERT_EQ(controller_->Opctl({"apply", "-f", redis}).exit_code, 0);
  testing::CommandResult same = controller_->Opctl({"diff", "-f", redis});
  EXPECT_EQ(same.exit_code, 0) << same.err;
  EXPECT_EQ(same.out, "");

  // One field changed: one object, one hunk, the old line and the new.
  std::ifstream in(redis);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_NE(text.find("memoryLimit: 2g"), std::string::npos);
  std::string bigger = WriteFile("bigger.yaml", text.replace(text.find("memoryLimit: 2g"), 15, "memoryLimit: 3g"));
  testing::CommandResult changed = controller_->Opctl({"diff", "-f", bigger});
  EXPECT_EQ(changed.exit_code, 1) << changed.err;
  EXPECT_EQ(CountLines(changed.out, "--- live/"), 1) << changed.out;
  EXPECT_EQ(CountLines(changed.out, "@@ "), 1) << changed.out;
  EXPECT_THAT(changed.out, HasSubstr("\n-      memoryLimit: 2g\n+      memoryLimit: 3g\n"));
  std::string stored = controller_->Opctl({"get", "service", "redis-master", "-o", "json"}).out;
  EXPECT_THAT(stored, HasSubstr("\"memoryLimit\": \"2g\""));
  EXPECT_THAT(stored, HasSubstr("\"generation\": \"1\""));  // the spec was never written

  // A change made since (a scale) is what applying the file again would undo.
  ASSERT_EQ(controller_->Opctl({"scale", "service/redis-sentinel", "--replicas", "1"}).exit_code, 0);
  testing::CommandResult scaled = controller_->Opctl({"diff", "-f", redis});
  EXPECT_EQ(scaled.exit_code, 1) << scaled.err;
  EXPECT_THAT(scaled.out, HasSubstr("--- live/service/redis-sentinel\n"));
  EXPECT_THAT(scaled.out, HasSubstr("\n-  replicas: 1\n+  replicas: 3\n"));

  // What apply would refuse, diff refuses the same way, naming file and line; exit 2 (an error).
  std::string dangling = WriteFile("dangling.yaml", kDanglingNetworkReference);
  testing::CommandResult refused = controller_->Opctl({"diff", "-f", dangling});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(
      refused.err,
      HasSubstr(absl::StrCat(dangling, ":15: service/web spec.network.name: network \"no-such-net\" does not exist")));
  EXPECT_EQ(refused.out, "");
}

// --dry-run stores nothing; --prune removes what the applied stacks no longer name (compose's
// --remove-orphans), and nothing else: not other stacks, not what the controller made for a Service.
TEST_F(ControllerIntegrationTest, ApplyDryRunStoresNothingAndPruneRemovesWhatTheStackNoLongerNames) {
  std::string redis = SourcePath("manifests/redis.yaml");
  testing::CommandResult dry = controller_->Opctl({"apply", "-f", redis, "--dry-run"});
  EXPECT_EQ(dry.exit_code, 0) << dry.err;
  EXPECT_EQ(CountLines(dry.out, "created (server dry run)"), 5) << dry.out;
  EXPECT_EQ(controller_->Opctl({"get", "all", "-o", "name"}).out, "");

  std::string other = WriteFile("other.yaml", R"(apiVersion: opctl.io/v1
kind: Network
metadata:
  name: other-net
  stack: other
spec:
  subnet: 10.6.0.0/24
)");
  ASSERT_EQ(controller_->Opctl({"apply", "-f", other}).exit_code, 0);
  ASSERT_EQ(controller_->Opctl({"apply", "-f", redis}).exit_code, 0);
  // The service controller makes each replica's own volume: the controller's, not the manifest's.
  ASSERT_TRUE(WaitFor(
      [&] {
        return controller_->Opctl({"get", "volume", "data-redis-replica-1"}).exit_code == 0;
      },
      absl::Seconds(10)));

  std::ifstream in(redis);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t sentinels = text.find("---\napiVersion: opctl.io/v1\nkind: Service\nmetadata:\n  name: redis-sentinel\n");
  ASSERT_NE(sentinels, std::string::npos);
  std::string without = WriteFile("without-sentinels.yaml", text.substr(0, sentinels));

  testing::CommandResult preview = controller_->Opctl({"apply", "-f", without, "--prune", "--dry-run"});
  EXPECT_EQ(preview.exit_code, 0) << preview.err;
  EXPECT_THAT(preview.out, HasSubstr("service/redis-sentinel pruned (server dry run)\n"));
  EXPECT_EQ(controller_->Opctl({"get", "service", "redis-sentinel"}).exit_code, 0);

  testing::CommandResult pruned = controller_->Opctl({"apply", "-f", without, "--prune"});
  EXPECT_EQ(pruned.exit_code, 0) << pruned.err;
  EXPECT_THAT(pruned.out, HasSubstr("service/redis-sentinel pruned\n"));
  EXPECT_THAT(pruned.out, HasSubstr("container/redis-sentinel-2 pruned\n"));
  EXPECT_EQ(CountLines(pruned.out, "pruned"), 4) << pruned.out;  // the Service and its three Containers
  EXPECT_EQ(controller_->Opctl({"get", "service", "-o", "name"}).out, "service/redis-master\nservice/redis-replica\n");
  std::string left = controller_->Opctl({"get", "all", "-o", "name"}).out;
  for (const char* kept : {"network/other-net", "network/redis-net", "volume/redis_master_data",
                           "volume/data-redis-replica-0", "volume/data-redis-replica-1"}) {
    EXPECT_THAT(left, HasSubstr(kept));
  }
  // Applied again, nothing more goes.
  testing::CommandResult again = controller_->Opctl({"apply", "-f", without, "--prune"});
  EXPECT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(CountLines(again.out, "pruned"), 0) << again.out;

  // Pruning needs a stack to work on: without one, a usage error and nothing applied.
  std::string loose = WriteFile("loose.yaml", R"(apiVersion: opctl.io/v1
kind: Network
metadata:
  name: loose-net
spec:
  subnet: 10.7.0.0/24
)");
  testing::CommandResult refused = controller_->Opctl({"apply", "-f", loose, "--prune"});
  EXPECT_EQ(refused.exit_code, 2);
  EXPECT_THAT(refused.err, HasSubstr("metadata.stack"));
  EXPECT_EQ(controller_->Opctl({"get", "network", "loose-net"}).exit_code, 1);
}

// Prometheus' endpoint: API calls by method and code with their latency, streams open, and what the
// store holds, read at each scrape; only compiled-in methods become labels.
TEST_F(ControllerIntegrationTest, MetricsCountCallsAndShowWhatTheStoreHolds) {
  controller_.reset();
  // Two addresses, as scripts/up.sh gives: loopback, and one the monitoring stack's containers reach.
  auto started = ControllerProcess::Start(data_dir_, 0, {"--metrics-listen=127.0.0.1:0,127.0.0.2:0"});
  ASSERT_TRUE(started.ok()) << started.status();
  controller_ = *std::move(started);
  stub_ = v1::Controller::NewStub(grpc::CreateChannel(controller_->address(), testing::UserCredentials()));
  std::string output = controller_->process().Output();
  std::string address = testing::MetricsAddress(output);
  ASSERT_TRUE(absl::StartsWith(address, "127.0.0.1:")) << output;
  size_t after = output.find("/metrics, http://");
  ASSERT_NE(after, std::string::npos) << output;
  after += std::string("/metrics, http://").size();
  std::string second = output.substr(after, output.find("/metrics", after) - after);
  ASSERT_TRUE(absl::StartsWith(second, "127.0.0.2:")) << output;
  EXPECT_THAT(testing::Scrape(second), HasSubstr("opctl_store_revision"));

  ASSERT_EQ(controller_->Opctl({"apply", "-f", SourcePath("manifests/redis.yaml")}).exit_code, 0);
  ASSERT_EQ(controller_->Opctl({"apply", "-f", WriteFile("dangling.yaml", kDanglingNetworkReference)}).exit_code, 1);
  // A method no service has: counted, under "unknown", never under the caller's text.
  grpc::GenericStub generic(grpc::CreateChannel(controller_->address(), testing::UserCredentials()));
  grpc::ClientContext bogus_context;
  bogus_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::Slice empty(std::string(""));
  grpc::ByteBuffer request(&empty, 1), response;
  std::promise<grpc::Status> answered;
  generic.UnaryCall(&bogus_context, "/opctl.v1.Controller/NoSuchMethod-x1", grpc::StubOptions(), &request, &response,
                    [&](grpc::Status status) { answered.set_value(status); });
  EXPECT_EQ(answered.get_future().get().error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // A watch stays open while it is scraped.
  grpc::ClientContext watch_context;
  v1::WatchRequest watch_request;
  watch_request.set_kind("Service");
  auto watch = stub_->Watch(&watch_context, watch_request);
  v1::WatchEvent event;
  ASSERT_TRUE(watch->Read(&event));

  std::string scrape;
  ASSERT_TRUE(WaitFor(
      [&] {
        scrape = testing::Scrape(address);
        return Sample(scrape, R"(opctl_api_streams_open{method="/opctl.v1.Controller/Watch"})") == 1;
      },
      absl::Seconds(10)))
      << scrape;
  EXPECT_EQ(Sample(scrape, R"(opctl_api_requests_total{code="OK",method="/opctl.v1.Controller/Apply"})"), 1) << scrape;
  EXPECT_EQ(Sample(scrape, R"(opctl_api_requests_total{code="INVALID_ARGUMENT",method="/opctl.v1.Controller/Apply"})"),
            1);
  EXPECT_EQ(Sample(scrape, R"(opctl_api_requests_total{code="UNIMPLEMENTED",method="unknown"})"), 1);
  EXPECT_THAT(scrape, Not(HasSubstr("NoSuchMethod")));
  EXPECT_EQ(Sample(scrape, R"(opctl_api_request_duration_seconds_count{method="/opctl.v1.Controller/Apply"})"), 2);
  EXPECT_EQ(
      Sample(scrape, R"(opctl_api_request_duration_seconds_bucket{method="/opctl.v1.Controller/Apply",le="+Inf"})"), 2);
  // The seed's six containers wait for a node; the Services ask for 1, 2 and 3.
  EXPECT_EQ(Sample(scrape, R"(opctl_containers{phase="Pending"})"), 6);
  EXPECT_EQ(Sample(scrape, R"(opctl_containers{phase="Running"})"), 0);
  EXPECT_EQ(Sample(scrape, R"(opctl_service_replicas{stack="redis",service="redis-sentinel"})"), 3);
  EXPECT_EQ(Sample(scrape, R"(opctl_service_replicas_ready{stack="redis",service="redis-sentinel"})"), 0);
  EXPECT_EQ(Sample(scrape, R"(opctl_nodes{ready="True"})"), 0);
  EXPECT_GT(Sample(scrape, "opctl_store_revision"), 1);
  // The seed's master volume is backed up hourly and has not been yet.
  const std::string master_data = R"({stack="redis",volume="redis_master_data"})";
  EXPECT_EQ(Sample(scrape, "opctl_volume_backup_interval_seconds" + master_data), 3600) << scrape;
  EXPECT_EQ(Sample(scrape, "opctl_volume_backup_last_success_timestamp_seconds" + master_data), 0);
  EXPECT_EQ(Sample(scrape, "opctl_volume_backup_last_failed" + master_data), 0);
  // The machinery: the service controller made the six containers and the scheduler found no node
  // for them (FailedScheduling Events, written by the events loop); the watch is open, its first
  // event sent; both applies and the Events were commits.
  ASSERT_TRUE(WaitFor(
      [&] {
        scrape = testing::Scrape(address);
        return Sample(scrape, "opctl_events_written_total") >= 1;
      },
      absl::Seconds(10)))
      << scrape;
  EXPECT_GE(Sample(scrape, R"(opctl_controller_reconcile_total{controller="service controller",result="succeeded"})"),
            3);
  EXPECT_GE(Sample(scrape, R"(opctl_controller_reconcile_duration_seconds_count{controller="scheduler"})"), 1);
  EXPECT_GE(Sample(scrape, R"(opctl_controller_queue_depth{controller="service controller"})"), 0);
  EXPECT_EQ(Sample(scrape, "opctl_watch_streams"), 1);
  EXPECT_EQ(Sample(scrape, "opctl_controller_leader"), 1) << "alone on SQLite it leads";
  EXPECT_GE(Sample(scrape, "opctl_watch_events_sent_total"), 1);
  EXPECT_EQ(Sample(scrape, "opctl_watch_cut_off_total"), 0);
  EXPECT_GE(Sample(scrape, R"(opctl_store_commits_total{result="succeeded"})"), 2);
  EXPECT_GE(Sample(scrape, R"(opctl_store_commit_duration_seconds_bucket{le="+Inf"})"), 2);
  // Every commit was synced in some group; a group holds at least one.
  EXPECT_GE(Sample(scrape, "opctl_store_syncs_total"), 1);
  EXPECT_LE(Sample(scrape, "opctl_store_syncs_total"),
            Sample(scrape, R"(opctl_store_commits_total{result="succeeded"})") +
                Sample(scrape, R"(opctl_store_commits_total{result="conflict"})") +
                Sample(scrape, R"(opctl_store_commits_total{result="failed"})"));
  EXPECT_GE(Sample(scrape, "opctl_events_recorded_total"), 6);
  EXPECT_EQ(Sample(scrape, "opctl_events_dropped_total"), 0);
  testing::CommandResult events = controller_->Opctl({"get", "events", "--field-selector", "reason=FailedScheduling"});
  EXPECT_THAT(events.out, HasSubstr("no node is registered yet")) << events.err;
  watch_context.TryCancel();

  // An address given by name that cannot be had stops the controller, saying so.
  auto clash = ControllerProcess::Start(testing::MakeTempDir("opctl-it"), 0, {"--metrics-listen=" + address});
  ASSERT_FALSE(clash.ok());
  EXPECT_THAT(std::string(clash.status().message()), HasSubstr("cannot listen on " + address + " for metrics"));
  auto malformed = ControllerProcess::Start(testing::MakeTempDir("opctl-it"), 0, {"--metrics-listen=127.0.0.1:0,7071"});
  ASSERT_FALSE(malformed.ok());
  EXPECT_THAT(std::string(malformed.status().message()), HasSubstr("\"7071\" is not HOST:PORT"));
}

// The test harness's own check: tests start the CLI while their gRPC calls are in flight (the cordon
// test's stand-in agent beats on a thread). With fork(), gRPC 1.51's fork handler could wait in the
// test's fork() for gRPC's threads that waited for it, and the test hung until ctest killed it.
TEST_F(ControllerIntegrationTest, CommandsStartWhileTheTestsGrpcCallsAreInFlight) {
  std::atomic<bool> stop{false};
  std::atomic<int> answered{0};
  std::vector<std::thread> callers;
  for (int i = 0; i < 2; ++i) {
    callers.emplace_back([&] {
      while (!stop) {
        grpc::ClientContext context;
        context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
        v1::ListRequest request;
        request.set_kind("Network");
        v1::ListResponse response;
        if (stub_->List(&context, request, &response).ok()) ++answered;
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return answered > 0; }, absl::Seconds(30)));
  int failed = 0;
  for (int run = 0; run < 300; ++run) failed += testing::RunCommand({"true"}, "", absl::Seconds(30)).exit_code != 0;
  stop = true;
  for (std::thread& caller : callers) caller.join();
  EXPECT_EQ(failed, 0);
  std::printf("300 commands started while %d gRPC calls were answered\n", answered.load());
}

TEST_F(ControllerIntegrationTest, CordonKeepsNewContainersOffANode) {
  // A node registered the way an agent does it, then cordoned through the CLI.
  auto agent_stub =
      v1::Agent::NewStub(grpc::CreateChannel(controller_->address(), testing::AgentCredentials("host-a")));
  v1::HeartbeatRequest heartbeat;
  heartbeat.mutable_node()->mutable_metadata()->set_name("host-a");
  heartbeat.mutable_node()->mutable_status()->mutable_capacity()->set_memory_bytes(8LL << 30);
  heartbeat.mutable_node()->mutable_status()->mutable_capacity()->set_milli_cpus(4000);
  // Heartbeats go on for the whole test, as an agent's would (the node is NotReady after 3 s without).
  std::atomic<bool> stop{false};
  std::atomic<int> beats{0};
  std::thread heartbeats([&] {
    while (!stop) {
      v1::HeartbeatResponse answer;
      grpc::ClientContext context;
      // As the agent's own: a heartbeat not answered within a second has failed (the next one follows).
      context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(1));
      if (agent_stub->Heartbeat(&context, heartbeat, &answer).ok()) ++beats;
      WaitFor([&] { return stop.load(); }, absl::Milliseconds(300));
    }
  });
  struct Join {
    std::atomic<bool>& stop;
    std::thread& thread;
    ~Join() {
      stop = true;
      thread.join();
    }
  } join{stop, heartbeats};
  ASSERT_TRUE(WaitFor([&] { return beats > 0; }, absl::Seconds(10)));
  testing::CommandResult cordoned = controller_->Opctl({"cordon", "host-a"});
  ASSERT_EQ(cordoned.exit_code, 0) << cordoned.err;
  EXPECT_EQ(cordoned.out, "node/host-a cordoned\n");
  EXPECT_THAT(controller_->Opctl({"get", "nodes"}).out, HasSubstr("Ready,SchedulingDisabled"));

  std::string path = WriteFile("one.yaml", R"(apiVersion: opctl.io/v1
kind: Service
metadata: {name: one}
spec:
  replicas: 1
  template: {image: busybox}
)");
  ASSERT_EQ(controller_->Opctl({"apply", "-f", path}).exit_code, 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        return absl::StrContains(controller_->Opctl({"describe", "ctr", "one-0"}).out, "1 cordoned");
      },
      absl::Seconds(10)));
  ASSERT_EQ(controller_->Opctl({"uncordon", "node/host-a"}).exit_code, 0);
  EXPECT_TRUE(WaitFor(
      [&] {
        return absl::StrContains(controller_->Opctl({"get", "ctr", "one-0"}).out, "host-a");
      },
      absl::Seconds(10)));
}

TEST_F(ControllerIntegrationTest, UnreachableControllerIsNamed) {
  testing::CommandResult result =
      testing::RunCommand({testing::BinaryPath("opctl"), "--server=127.0.0.1:1", "get", "services"});
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("cannot reach the controller at 127.0.0.1:1"));
}

TEST_F(ControllerIntegrationTest, WatchResumesAfterARestartWithNoEventLostOrRepeated) {
  constexpr int kBefore = 10, kWhileAway = 10, kAfter = 10;
  std::vector<std::pair<int64_t, std::string>> seen;  // (revision, network) in the order received
  int64_t last_revision = 0;
  auto read_until = [&](int wanted) {
    grpc::ClientContext context;
    v1::WatchRequest request;
    request.set_kind("Network");
    request.set_resource_version(last_revision);
    auto reader = stub_->Watch(&context, request);
    v1::WatchEvent event;
    while (static_cast<int>(seen.size()) < wanted && reader->Read(&event)) {
      last_revision = event.revision();
      if (event.type() == v1::WatchEvent::ADDED) seen.emplace_back(event.revision(), MetaOf(event.object()).name());
    }
    context.TryCancel();
  };
  v1::ListRequest list;
  v1::ListResponse listed;
  grpc::ClientContext list_context;
  ASSERT_TRUE(stub_->List(&list_context, list, &listed).ok());
  last_revision = listed.revision();

  v1::ApplyResponse response;
  for (int i = 0; i < kBefore; ++i) ASSERT_TRUE(ApplyOne(*stub_, Network(absl::StrCat("net-", i), i), &response).ok());
  read_until(kBefore);
  ASSERT_EQ(seen.size(), size_t{kBefore});

  // The controller dies hard; changes land while the watcher is away; it resumes where it stopped.
  int port = controller_->port();
  controller_->process().Signal(SIGKILL);
  controller_->process().Wait();
  StartController(port);
  for (int i = kBefore; i < kBefore + kWhileAway; ++i) {
    grpc::Status status = ApplyOne(*stub_, Network(absl::StrCat("net-", i), i), &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  std::thread writer([&] {
    auto stub = v1::Controller::NewStub(grpc::CreateChannel(controller_->address(), testing::UserCredentials()));
    v1::ApplyResponse ignored;
    for (int i = kBefore + kWhileAway; i < kBefore + kWhileAway + kAfter; ++i) {
      EXPECT_TRUE(ApplyOne(*stub, Network(absl::StrCat("net-", i), i), &ignored).ok());
    }
  });
  read_until(kBefore + kWhileAway + kAfter);
  writer.join();

  ASSERT_EQ(seen.size(), size_t{kBefore + kWhileAway + kAfter});
  std::set<std::string> names;
  for (size_t i = 0; i < seen.size(); ++i) {
    names.insert(seen[i].second);
    if (i > 0) {
      EXPECT_GT(seen[i].first, seen[i - 1].first) << "revisions strictly increase";
    }
  }
  EXPECT_EQ(names.size(), seen.size()) << "no event repeated";
}

// Repeated kill -9 at random moments under concurrent writers. Each write is one Apply of two
// networks: after every restart each acknowledged write is there at the version it was acknowledged
// with, and no write is there by halves (an Apply is one transaction). Opening the store runs its
// integrity check, so each restart also checks that.
TEST_F(ControllerIntegrationTest, AcknowledgedWritesSurviveRepeatedKill9) {
  constexpr int kClients = 4;
  constexpr int kTrials = 8;
  std::mt19937 random(static_cast<unsigned>(absl::ToUnixNanos(absl::Now())));
  std::atomic<int> next_index{0};
  std::map<std::string, int64_t> acknowledged;  // network -> resourceVersion the controller answered
  std::set<std::string> pairs;                  // every pair ever sent, acknowledged or not
  int port = controller_->port();
  for (int trial = 0; trial < kTrials; ++trial) {
    std::atomic<bool> stop{false};
    std::mutex mutex;
    size_t acknowledged_before = acknowledged.size();
    std::vector<std::thread> clients;
    for (int c = 0; c < kClients; ++c) {
      clients.emplace_back([&, c] {
        auto stub = v1::Controller::NewStub(grpc::CreateChannel(controller_->address(), testing::UserCredentials()));
        for (int i = 0; !stop; ++i) {
          std::string pair = absl::StrCat("t", trial, "-c", c, "-", i);
          int index = next_index.fetch_add(2);
          v1::ApplyRequest request;
          *request.add_objects() = Network(pair + "-a", index);
          *request.add_objects() = Network(pair + "-b", index + 1);
          {
            std::lock_guard<std::mutex> lock(mutex);
            pairs.insert(pair);
          }
          grpc::ClientContext context;
          context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
          v1::ApplyResponse response;
          if (!stub->Apply(&context, request, &response).ok()) return;  // the controller is gone
          std::lock_guard<std::mutex> lock(mutex);
          acknowledged[pair + "-a"] = response.results(0).resource_version();
          acknowledged[pair + "-b"] = response.results(1).resource_version();
        }
      });
    }
    // Kill at a random point, while the clients are still writing.
    size_t kill_after = acknowledged_before + 2 * std::uniform_int_distribution<int>(10, 150)(random);
    ASSERT_TRUE(WaitFor(
        [&] {
          std::lock_guard<std::mutex> lock(mutex);
          return acknowledged.size() >= kill_after;
        },
        absl::Seconds(60)));
    controller_->process().Signal(SIGKILL);
    controller_->process().Wait();
    stop = true;
    for (std::thread& client : clients) client.join();

    StartController(port);  // fails if the store's integrity check does
    v1::ListRequest request;
    request.set_kind("Network");
    v1::ListResponse response;
    grpc::ClientContext context;
    ASSERT_TRUE(stub_->List(&context, request, &response).ok());
    std::map<std::string, int64_t> stored;
    for (const v1::Object& object : response.items()) stored[MetaOf(object).name()] = MetaOf(object).resource_version();
    for (const auto& [name, version] : acknowledged) {
      ASSERT_TRUE(stored.count(name)) << name << " was acknowledged at " << version << " and lost (trial " << trial
                                      << ")";
      EXPECT_EQ(stored[name], version) << name;
    }
    for (const std::string& pair : pairs) {
      EXPECT_EQ(stored.count(pair + "-a"), stored.count(pair + "-b")) << pair << " is stored by halves";
    }
  }
  std::cout << "kill -9 trials: " << kTrials << "; acknowledged writes checked after each: " << acknowledged.size()
            << " networks in " << acknowledged.size() / 2 << " two-object applies; " << pairs.size()
            << " applies sent, none stored by halves\n";
}

}  // namespace
}  // namespace opctl
