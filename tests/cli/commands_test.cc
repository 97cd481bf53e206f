// Each command against a fake controller: what it sends, what it prints, and its exit code (0 done,
// 1 the request failed, 2 a usage error). The same commands against the real controller are in
// tests/integration.
#include "cli/commands/commands.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/conditions.h"
#include "tests/cli/fake_controller.h"
#include "tests/support/process.h"

namespace opctl::cli {
namespace {

using ::testing::ElementsAre;
using testing::FakeController;
using ::testing::HasSubstr;

struct Ran {
  int exit_code;
  std::string out, err;
};

// Runs `command` as `opctl VERB WORDS...` would, against `fake`.
Ran RunCommand(FakeController& fake, const std::string& verb, const std::vector<std::string>& words,
               int (*command)(CommandContext&)) {
  absl::StatusOr<Arguments> arguments = Arguments::Parse(words, verb);
  EXPECT_TRUE(arguments.ok()) << arguments.status();
  std::ostringstream out, err;
  CommandContext context{*arguments, fake, out, err};
  int exit_code = command(context);
  return {exit_code, out.str(), err.str()};
}

v1::Object Service(const std::string& name, int replicas, int ready) {
  v1::Object object;
  v1::Service* service = object.mutable_service();
  service->set_api_version("opctl.io/v1");
  service->set_kind("Service");
  service->mutable_metadata()->set_name(name);
  service->mutable_metadata()->set_stack("redis");
  service->mutable_metadata()->set_generation(1);
  service->mutable_spec()->set_replicas(replicas);
  service->mutable_spec()->mutable_template_()->set_image("opctl/redis:7.0");
  service->mutable_status()->set_observed_generation(1);
  service->mutable_status()->set_replicas(replicas);
  service->mutable_status()->set_ready_replicas(ready);
  service->mutable_status()->set_updated_replicas(replicas);
  return object;
}

v1::Object Node(const std::string& name) {
  v1::Object object;
  object.mutable_node()->mutable_metadata()->set_name(name);
  v1::Condition* ready = object.mutable_node()->mutable_status()->add_conditions();
  ready->set_type("Ready");
  ready->set_status("True");
  return object;
}

TEST(GetCommand, PrintsNamesAndJsonAndSaysWhatIsMissing) {
  FakeController fake;
  fake.Add(Service("redis-master", 1, 1));
  fake.Add(Service("redis-replica", 2, 1));
  Ran names = RunCommand(fake, "get", {"services", "-o", "name"}, RunGet);
  EXPECT_EQ(names.exit_code, 0) << names.err;
  EXPECT_EQ(names.out, "service/redis-master\nservice/redis-replica\n");
  Ran table = RunCommand(fake, "get", {"services"}, RunGet);
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_THAT(table.out, HasSubstr("redis-replica"));
  EXPECT_THAT(table.out, HasSubstr("1/2"));
  Ran json = RunCommand(fake, "get", {"service", "redis-master", "-o", "json"}, RunGet);
  EXPECT_EQ(json.exit_code, 0) << json.err;
  EXPECT_THAT(json.out, HasSubstr("\"name\": \"redis-master\""));
  Ran missing = RunCommand(fake, "get", {"service", "nope"}, RunGet);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("not found"));
  Ran unknown = RunCommand(fake, "get", {"widgets"}, RunGet);
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_THAT(unknown.err, HasSubstr("widgets"));
}

TEST(DescribeCommand, ShowsMetadataSpecStatusConditionsAndAServicesContainers) {
  FakeController fake;
  v1::Object service = Service("web", 1, 1);
  (*service.mutable_service()->mutable_metadata()->mutable_labels())["tier"] = "front";
  v1::Condition* available = service.mutable_service()->mutable_status()->add_conditions();
  available->set_type("Available");
  available->set_status("True");
  available->set_reason("ReplicasReady");
  fake.Add(service);
  v1::Object container;
  container.mutable_container()->mutable_metadata()->set_name("web-0");
  container.mutable_container()->mutable_spec()->set_service("web");
  fake.Add(container);
  Ran described = RunCommand(fake, "describe", {"service/web"}, RunDescribe);
  EXPECT_EQ(described.exit_code, 0) << described.err;
  EXPECT_THAT(described.out, HasSubstr("Name:"));
  EXPECT_THAT(described.out, HasSubstr("tier=front"));
  EXPECT_THAT(described.out, HasSubstr("Spec:\n"));
  EXPECT_THAT(described.out, HasSubstr("opctl/redis:7.0"));
  EXPECT_THAT(described.out, HasSubstr("readyReplicas: 1"));
  EXPECT_THAT(described.out, ::testing::ContainsRegex("Available +True +ReplicasReady"));
  EXPECT_THAT(described.out, HasSubstr("Containers:\n"));
  EXPECT_THAT(described.out, HasSubstr("web-0"));
  Ran bare = RunCommand(fake, "describe", {"service"}, RunDescribe);
  EXPECT_EQ(bare.exit_code, 2);
  EXPECT_THAT(bare.err, HasSubstr("describe needs KIND NAME"));
}

TEST(DiffCommand, ShowsWhatAnApplyWouldChangeAndExitsAsKubectlDoes) {
  FakeController fake;
  std::string dir = opctl::testing::MakeTempDir("opctl-cli-diff");
  std::ofstream(dir + "/net.yaml") << "apiVersion: opctl.io/v1\nkind: Network\nmetadata: {name: net}\nspec: {subnet: "
                                      "10.9.0.0/24}\n";
  Ran created = RunCommand(fake, "diff", {"-f", dir + "/net.yaml"}, RunDiff);
  EXPECT_EQ(created.exit_code, 1) << "something would change: " << created.err;
  EXPECT_THAT(created.out, HasSubstr("+++ applied/network/net"));
  EXPECT_THAT(created.out, HasSubstr("+  subnet: 10.9.0.0/24\n"));
  EXPECT_TRUE(fake.applied.back().dry_run()) << "only the controller's dry run";
  ASSERT_EQ(RunCommand(fake, "apply", {"-f", dir + "/net.yaml"}, RunApply).exit_code, 0);
  Ran same = RunCommand(fake, "diff", {"-f", dir + "/net.yaml"}, RunDiff);
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  EXPECT_EQ(same.out, "");
  Ran missing = RunCommand(fake, "diff", {}, RunDiff);
  EXPECT_EQ(missing.exit_code, 2);
}

TEST(RolloutCommand, RestartLabelsTheTemplateAndAppliesWithTheVersionItRead) {
  FakeController fake;
  v1::Object service = Service("web", 2, 2);
  service.mutable_service()->mutable_metadata()->set_resource_version(41);
  fake.Add(service);
  Ran restarted = RunCommand(fake, "rollout", {"restart", "service/web"}, RunRollout);
  EXPECT_EQ(restarted.exit_code, 0) << restarted.err;
  EXPECT_THAT(restarted.out, HasSubstr("service/web restarting"));
  ASSERT_EQ(fake.applied.size(), 1u);
  const v1::Service& sent = fake.applied[0].objects(0).service();
  EXPECT_TRUE(sent.spec().template_().labels().contains("opctl.io/restarted-at"));
  EXPECT_EQ(sent.metadata().resource_version(), 41) << "a concurrent change is a conflict, not lost";
  EXPECT_EQ(sent.metadata().annotations().at("opctl.io/change-cause"), "opctl rollout restart service/web");
  EXPECT_EQ(RunCommand(fake, "rollout", {"back", "service/web"}, RunRollout).exit_code, 2);
  EXPECT_EQ(RunCommand(fake, "rollout", {"status", "node/a"}, RunRollout).exit_code, 2);
  EXPECT_EQ(RunCommand(fake, "rollout", {"restart", "service/nope"}, RunRollout).exit_code, 1);
}

// A Service whose status keeps three revisions: images v1, v2 and v3 (the current one).
v1::Object ServiceWithHistory() {
  v1::Object object = Service("web", 2, 2);
  v1::Service& service = *object.mutable_service();
  service.mutable_metadata()->set_resource_version(7);
  for (int i = 1; i <= 3; ++i) {
    v1::ServiceRevision& revision = *service.mutable_status()->add_revisions();
    revision.set_revision(i);
    revision.mutable_template_()->set_image(absl::StrCat("opctl/web:v", i));
    revision.set_created("2026-12-03T07:0" + std::to_string(i) + ":00Z");
    if (i != 2) revision.set_change_cause(absl::StrCat("opctl apply -f web-v", i, ".yaml"));
  }
  service.mutable_spec()->mutable_template_()->set_image("opctl/web:v3");
  return object;
}

TEST(RolloutCommand, HistoryListsTheKeptRevisionsAndShowsOneTemplate) {
  FakeController fake;
  fake.Add(ServiceWithHistory());
  Ran history = RunCommand(fake, "rollout", {"history", "service/web"}, RunRollout);
  EXPECT_EQ(history.exit_code, 0) << history.err;
  EXPECT_EQ(history.out,
            "service/web\n"
            "REVISION   CREATED                CHANGE-CAUSE\n"
            "1          2026-12-03T07:01:00Z   opctl apply -f web-v1.yaml\n"
            "2          2026-12-03T07:02:00Z   <none>\n"
            "3          2026-12-03T07:03:00Z   opctl apply -f web-v3.yaml\n");
  Ran one = RunCommand(fake, "rollout", {"history", "service/web", "--revision", "2"}, RunRollout);
  EXPECT_EQ(one.exit_code, 0) << one.err;
  EXPECT_THAT(one.out, HasSubstr("service/web with revision #2"));
  EXPECT_THAT(one.out, HasSubstr("image: opctl/web:v2"));
  Ran absent = RunCommand(fake, "rollout", {"history", "service/web", "--revision", "9"}, RunRollout);
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_THAT(absent.err, HasSubstr("has no revision 9 (it has 1, 2, 3)"));
  EXPECT_EQ(RunCommand(fake, "rollout", {"history", "service/web", "--revision", "x"}, RunRollout).exit_code, 2);
}

TEST(RolloutCommand, UndoAppliesThePreviousOrTheNamedTemplateWithItsCause) {
  FakeController fake;
  fake.Add(ServiceWithHistory());
  Ran undone = RunCommand(fake, "rollout", {"undo", "service/web"}, RunRollout);
  EXPECT_EQ(undone.exit_code, 0) << undone.err;
  EXPECT_THAT(undone.out, HasSubstr("service/web rolled back to revision 2"));
  ASSERT_EQ(fake.applied.size(), 1u);
  const v1::Service& sent = fake.applied[0].objects(0).service();
  EXPECT_EQ(sent.spec().template_().image(), "opctl/web:v2");
  EXPECT_EQ(sent.spec().replicas(), 2) << "only the template goes back";
  EXPECT_EQ(sent.metadata().resource_version(), 7);
  EXPECT_EQ(sent.metadata().annotations().at("opctl.io/change-cause"),
            "opctl rollout undo service/web --to-revision 2");

  fake.Add(ServiceWithHistory());
  ASSERT_EQ(RunCommand(fake, "rollout", {"undo", "service/web", "--to-revision", "1"}, RunRollout).exit_code, 0);
  EXPECT_EQ(fake.applied.back().objects(0).service().metadata().annotations().at("opctl.io/change-cause"),
            "opctl rollout undo service/web --to-revision 1 (opctl apply -f web-v1.yaml)");
  // A revision that does not exist: the list of those that do; nothing applied.
  Ran absent = RunCommand(fake, "rollout", {"undo", "service/web", "--to-revision", "5"}, RunRollout);
  EXPECT_EQ(absent.exit_code, 1);
  EXPECT_THAT(absent.err, HasSubstr("service/web has no revision 5; its revisions are 1, 2, 3"));
  fake.Add(ServiceWithHistory());
  Ran same = RunCommand(fake, "rollout", {"undo", "service/web", "--to-revision", "3"}, RunRollout);
  EXPECT_EQ(same.exit_code, 0);
  EXPECT_THAT(same.out, HasSubstr("skipped rollback"));
  EXPECT_EQ(fake.applied.size(), 2u);
}

TEST(RolloutCommand, StatusEndsAtOnceWhenTheRolloutPassedItsDeadline) {
  FakeController fake;
  v1::Object service = Service("web", 2, 1);
  service.mutable_service()->mutable_status()->set_updated_replicas(1);
  SetCondition(service.mutable_service()->mutable_status()->mutable_conditions(), "Progressing", false,
               "ProgressDeadlineExceeded", "revision 2 made no progress for 10m", absl::Now());
  fake.Add(service);
  Ran stalled = RunCommand(fake, "rollout", {"status", "service/web", "--timeout", "60s"}, RunRollout);
  EXPECT_EQ(stalled.exit_code, 1);
  EXPECT_THAT(stalled.err, HasSubstr("service/web exceeded its progress deadline: revision 2 made no progress"));
}

TEST(WaitCommand, ReturnsOnceReadyAndNamesWhatHoldsBackOnTimeout) {
  FakeController fake;
  fake.Add(Service("web", 1, 1));
  v1::Object ready;
  ready.mutable_container()->mutable_metadata()->set_name("web-0");
  ready.mutable_container()->mutable_spec()->set_service("web");
  ready.mutable_container()->mutable_status()->set_phase("Running");
  fake.Add(ready);
  Ran done = RunCommand(fake, "wait", {"service/web", "--timeout", "5s"}, RunWait);
  EXPECT_EQ(done.exit_code, 0) << done.err;
  EXPECT_THAT(done.out, HasSubstr("service/web is ready"));

  fake.Add(Service("db", 1, 0));
  v1::Object stuck;
  stuck.mutable_container()->mutable_metadata()->set_name("db-0");
  stuck.mutable_container()->mutable_spec()->set_service("db");
  stuck.mutable_container()->mutable_status()->set_phase("Pending");
  stuck.mutable_container()->mutable_status()->set_last_error("image opctl/db:1 not found");
  fake.Add(stuck);
  Ran timed_out = RunCommand(fake, "wait", {"service/db", "--timeout", "200ms"}, RunWait);
  EXPECT_EQ(timed_out.exit_code, 1);
  EXPECT_THAT(timed_out.err, HasSubstr("not ready: service/db"));
  EXPECT_THAT(timed_out.err, HasSubstr("db-0 Pending: image opctl/db:1 not found"));
  EXPECT_EQ(RunCommand(fake, "wait", {"node/a"}, RunWait).exit_code, 2);
  // rollout status waits the same way.
  EXPECT_EQ(RunCommand(fake, "rollout", {"status", "service/web", "--timeout", "5s"}, RunRollout).exit_code, 0);
  Ran rolling = RunCommand(fake, "rollout", {"status", "service/db", "--timeout", "200ms"}, RunRollout);
  EXPECT_EQ(rolling.exit_code, 1);
  EXPECT_THAT(rolling.err, HasSubstr("db-0 Pending: image opctl/db:1 not found"));
}

TEST(DrainCommand, CordonsThenGivesUpOnAContainerThatRunsNowhereElse) {
  FakeController fake;
  fake.Add(Node("host-a"));
  v1::Object bound;
  bound.mutable_container()->mutable_metadata()->set_name("web-0");
  bound.mutable_container()->mutable_spec()->set_service("web");
  bound.mutable_container()->mutable_spec()->set_node_name("host-a");
  fake.Add(bound);
  // The fake never places an evicted container again: drain must say so when its time is up.
  Ran drained = RunCommand(fake, "drain", {"node/host-a", "--timeout", "300ms"}, RunDrain);
  EXPECT_EQ(drained.exit_code, 1);
  EXPECT_THAT(drained.out, HasSubstr("node/host-a cordoned"));
  EXPECT_THAT(drained.err, HasSubstr("web-0"));
  EXPECT_THAT(fake.calls(), ::testing::Contains("Evict"));
}

TEST(GetCommand, AControllerThatCannotBeReachedIsExitOne) {
  FakeController fake;
  fake.FailNext("List", {grpc::StatusCode::UNAVAILABLE, "connection refused"});
  Ran ran = RunCommand(fake, "get", {"services"}, RunGet);
  EXPECT_EQ(ran.exit_code, 1);
  EXPECT_THAT(ran.err, HasSubstr("connection refused"));
}

TEST(ScaleCommand, SendsTheCountAndRefusesABadOne) {
  FakeController fake;
  fake.Add(Service("web", 1, 1));
  Ran scaled = RunCommand(fake, "scale", {"service/web", "--replicas", "3"}, RunScale);
  EXPECT_EQ(scaled.exit_code, 0) << scaled.err;
  EXPECT_EQ(scaled.out, "service/web scaled to 3\n");
  ASSERT_EQ(fake.scaled.size(), 1u);
  EXPECT_EQ(fake.scaled[0].replicas(), 3);
  Ran bad = RunCommand(fake, "scale", {"service/web", "--replicas", "many"}, RunScale);
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_THAT(bad.err, HasSubstr("--replicas N"));
  Ran wrong_kind = RunCommand(fake, "scale", {"node/a", "--replicas", "1"}, RunScale);
  EXPECT_EQ(wrong_kind.exit_code, 2);
  EXPECT_EQ(fake.scaled.size(), 1u) << "nothing sent for a usage error";
}

TEST(DeleteCommand, DeletesAndIgnoresWhatIsGoneOnlyWhenAsked) {
  FakeController fake;
  fake.Add(Service("web", 1, 1));
  Ran deleted = RunCommand(fake, "delete", {"service", "web"}, RunDelete);
  EXPECT_EQ(deleted.exit_code, 0) << deleted.err;
  EXPECT_THAT(deleted.out, HasSubstr("service/web deleted"));
  Ran again = RunCommand(fake, "delete", {"service", "web"}, RunDelete);
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_THAT(again.err, HasSubstr("not found"));
  Ran ignored = RunCommand(fake, "delete", {"service", "web", "--ignore-not-found"}, RunDelete);
  EXPECT_EQ(ignored.exit_code, 0) << ignored.err;
}

TEST(CordonCommand, CordonsAndUncordonsANode) {
  FakeController fake;
  fake.Add(Node("host-a"));
  Ran cordoned =
      RunCommand(fake, "cordon", {"host-a"}, [](CommandContext& context) { return RunCordon(context, true); });
  EXPECT_EQ(cordoned.exit_code, 0) << cordoned.err;
  EXPECT_THAT(cordoned.out, HasSubstr("node/host-a cordoned"));
  Ran uncordoned =
      RunCommand(fake, "uncordon", {"node/host-a"}, [](CommandContext& context) { return RunCordon(context, false); });
  EXPECT_EQ(uncordoned.exit_code, 0) << uncordoned.err;
  EXPECT_THAT(uncordoned.out, HasSubstr("node/host-a uncordoned"));
  Ran service =
      RunCommand(fake, "cordon", {"service/web"}, [](CommandContext& context) { return RunCordon(context, true); });
  EXPECT_EQ(service.exit_code, 2);
}

TEST(LogsCommand, PrefixesAServicesLinesWithTheirContainerAndKeepsStderrApart) {
  FakeController fake;
  auto chunk = [](const std::string& container, const std::string& data, bool to_err) {
    v1::LogChunk chunk;
    chunk.set_container(container);
    chunk.set_data(data);
    chunk.set_stream(to_err ? v1::LogChunk::STDERR : v1::LogChunk::STDOUT);
    return chunk;
  };
  fake.log_chunks = {chunk("web-0", "one\n", false), chunk("web-1", "two\n", false), chunk("web-0", "bad\n", true)};
  Ran service = RunCommand(fake, "logs", {"service/web", "--tail", "5"}, RunLogs);
  EXPECT_EQ(service.exit_code, 0) << service.err;
  EXPECT_EQ(service.out, "web-0 | one\nweb-1 | two\n");
  EXPECT_EQ(service.err, "web-0 | bad\n");
  ASSERT_EQ(fake.logs_requested.size(), 1u);
  EXPECT_EQ(fake.logs_requested[0].tail(), 5);
  Ran bad_tail = RunCommand(fake, "logs", {"web-0", "--tail", "-1"}, RunLogs);
  EXPECT_EQ(bad_tail.exit_code, 2);
  fake.log_chunks = {chunk("web-0", "one\n", false)};
  fake.logs_end = grpc::Status(grpc::StatusCode::NOT_FOUND, "container \"web-9\" not found");
  Ran missing = RunCommand(fake, "logs", {"container/web-9"}, RunLogs);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("container \"web-9\" not found"));
}

TEST(VolumeCommand, ABackupIsWrittenWholeOrNotAtAll) {
  FakeController fake;
  std::string dir = opctl::testing::MakeTempDir("opctl-cli-volume");
  v1::DataChunk chunk;
  chunk.set_data("archive-bytes");
  fake.backup_chunks = {chunk};
  Ran backed_up = RunCommand(fake, "volume", {"backup", "data", "-o", dir + "/data.tar.gz"}, RunVolume);
  EXPECT_EQ(backed_up.exit_code, 0) << backed_up.err;
  EXPECT_THAT(backed_up.out, HasSubstr("volume/data backed up to " + dir + "/data.tar.gz (13 bytes"));
  std::ifstream written(dir + "/data.tar.gz");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(written), {}), "archive-bytes");

  fake.backup_chunks = {chunk};
  fake.backup_end = grpc::Status(grpc::StatusCode::UNAVAILABLE, "the agent went away");
  Ran failed = RunCommand(fake, "volume", {"backup", "data", "-o", dir + "/broken.tar.gz"}, RunVolume);
  EXPECT_EQ(failed.exit_code, 1);
  EXPECT_THAT(failed.err, HasSubstr("backup of volume data failed: the agent went away"));
  EXPECT_FALSE(std::ifstream(dir + "/broken.tar.gz").good());
  EXPECT_FALSE(std::ifstream(dir + "/broken.tar.gz.partial").good()) << "no partial file left";
}

TEST(VolumeCommand, ARestoreSendsTheTargetThenTheArchive) {
  FakeController fake;
  std::string archive = opctl::testing::MakeTempDir("opctl-cli-restore") + "/data.tar.gz";
  std::ofstream(archive) << "archive-bytes";
  fake.restore_response.set_bytes(13);
  fake.restore_response.add_restarted("web-0");
  Ran restored = RunCommand(fake, "volume", {"restore", "data", "-f", archive, "--force"}, RunVolume);
  EXPECT_EQ(restored.exit_code, 0) << restored.err;
  EXPECT_THAT(restored.out, HasSubstr("volume/data restored from " + archive + " (13 bytes"));
  EXPECT_THAT(restored.out, HasSubstr("; restarted web-0"));
  ASSERT_EQ(fake.restored.size(), 2u);
  EXPECT_EQ(fake.restored[0].target().name(), "data");
  EXPECT_TRUE(fake.restored[0].target().force());
  EXPECT_EQ(fake.restored[1].data(), "archive-bytes");
  fake.restore_end = grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "volume data is in use by web-0");
  Ran refused = RunCommand(fake, "volume", {"restore", "data", "-f", archive}, RunVolume);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr("restore of volume data failed: volume data is in use by web-0"));
  Ran no_file = RunCommand(fake, "volume", {"restore", "data"}, RunVolume);
  EXPECT_EQ(no_file.exit_code, 2);
}

TEST(ApplyCommand, SendsEveryDocumentAndPrintsWhatHappened) {
  FakeController fake;
  std::string path = opctl::testing::MakeTempDir("opctl-cli-apply") + "/stack.yaml";
  std::ofstream(path) << "apiVersion: opctl.io/v1\nkind: Network\nmetadata: {name: net}\nspec: {subnet: "
                         "10.9.0.0/24}\n---\napiVersion: opctl.io/v1\nkind: Volume\nmetadata: {name: data}\n";
  Ran applied = RunCommand(fake, "apply", {"-f", path}, RunApply);
  EXPECT_EQ(applied.exit_code, 0) << applied.err;
  EXPECT_EQ(applied.out, "network/net created\nvolume/data created\n");
  ASSERT_EQ(fake.applied.size(), 1u) << "one request: all or nothing";
  EXPECT_EQ(fake.applied[0].objects_size(), 2);
  Ran again = RunCommand(fake, "apply", {"-f", path}, RunApply);
  EXPECT_EQ(again.out, "network/net unchanged\nvolume/data unchanged\n");
  std::ofstream(path) << "apiVersion: opctl.io/v1\nkind: Network\nmetadata: {name: net}\nspec: {subnet: "
                         "10.8.0.0/24}\n";
  Ran changed = RunCommand(fake, "apply", {"-f", path}, RunApply);
  EXPECT_EQ(changed.out, "network/net configured\n");
}

TEST(ApplyCommand, AServiceCarriesTheCommandAsItsChangeCauseUnlessItsFileGivesOne) {
  FakeController fake;
  std::string dir = opctl::testing::MakeTempDir("opctl-cli-cause");
  const std::string service = "apiVersion: opctl.io/v1\nkind: Service\nmetadata: {name: web";
  const std::string spec = "}\nspec: {replicas: 1, template: {image: busybox}}\n";
  std::ofstream(dir + "/plain.yaml") << service << spec;
  std::ofstream(dir + "/own.yaml") << service << ", annotations: {opctl.io/change-cause: \"bump to v2\"}" << spec;
  ASSERT_EQ(RunCommand(fake, "apply", {"-f", dir + "/plain.yaml"}, RunApply).exit_code, 0);
  ASSERT_EQ(RunCommand(fake, "apply", {"-f", dir + "/own.yaml"}, RunApply).exit_code, 0);
  ASSERT_EQ(fake.applied.size(), 2u);
  EXPECT_EQ(fake.applied[0].objects(0).service().metadata().annotations().at("opctl.io/change-cause"),
            "opctl apply -f " + dir + "/plain.yaml");
  EXPECT_EQ(fake.applied[1].objects(0).service().metadata().annotations().at("opctl.io/change-cause"), "bump to v2");
}

TEST(ApplyCommand, ABadManifestIsRefusedWithItsFileAndLineAndNothingIsSent) {
  FakeController fake;
  std::string path = opctl::testing::MakeTempDir("opctl-cli-apply") + "/bad.yaml";
  std::ofstream(path) << "apiVersion: opctl.io/v1\nkind: Network\nmetadata: {name: net}\nspec: {subnet: nonsense}\n";
  Ran refused = RunCommand(fake, "apply", {"-f", path}, RunApply);
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_THAT(refused.err, HasSubstr(path + ":4"));
  EXPECT_THAT(refused.err, HasSubstr("subnet"));
  EXPECT_TRUE(fake.applied.empty());
  Ran no_file = RunCommand(fake, "apply", {}, RunApply);
  EXPECT_EQ(no_file.exit_code, 2);
}

TEST(GetControllersCommand, ListsTheControllersWithTheLeaderMarked) {
  FakeController fake;
  fake.control_plane.set_store("etcd https://127.0.0.1:23791");
  v1::ControllerInfo* first = fake.control_plane.add_controllers();
  first->set_address("127.0.0.1:7070");
  first->set_this_controller(true);
  first->set_nodes_heard(2);
  v1::ControllerInfo* second = fake.control_plane.add_controllers();
  second->set_address("127.0.0.1:7071");
  second->set_leader(true);
  second->set_last_seen_ms(400);
  Ran ran = RunCommand(fake, "get", {"controllers"}, RunGet);
  ASSERT_EQ(ran.exit_code, 0) << ran.err;
  EXPECT_THAT(ran.out, HasSubstr("ADDRESS"));
  EXPECT_THAT(ran.out, ::testing::ContainsRegex("127.0.0.1:7070 +2 +answering"));
  EXPECT_THAT(ran.out, ::testing::ContainsRegex("127.0.0.1:7071 +yes +0 +400ms ago"));
  EXPECT_THAT(ran.out, HasSubstr("store: etcd https://127.0.0.1:23791"));
  EXPECT_EQ(RunCommand(fake, "get", {"controllers", "x"}, RunGet).exit_code, 2);
}

TEST(ExecCommand, SendsTheCommandPrintsBothStreamsAndExitsWithItsExitCode) {
  FakeController fake;
  v1::ExecResponse container, out, err, exit_code;
  container.set_container("redis-replica-1");
  out.mutable_output()->set_data("to-out\n");
  err.mutable_output()->set_stream(v1::LogChunk::STDERR);
  err.mutable_output()->set_data("to-err\n");
  exit_code.set_exit_code(7);
  fake.exec_answers = {container, out, err, exit_code};
  Ran ran = RunCommand(fake, "exec", {"service/redis-replica", "--replica", "1", "--", "sh", "-c", "exit 7"}, RunExec);
  EXPECT_EQ(ran.exit_code, 7);
  EXPECT_EQ(ran.out, "to-out\n");
  EXPECT_EQ(ran.err, "to-err\n");
  ASSERT_EQ(fake.exec_sent.size(), 1u);
  const v1::ExecRequest::Start& start = fake.exec_sent[0].start();
  EXPECT_EQ(start.kind(), "Service");
  EXPECT_EQ(start.name(), "redis-replica");
  EXPECT_EQ(start.replica(), 1);
  EXPECT_THAT(start.command(), ElementsAre("sh", "-c", "exit 7"));
  EXPECT_FALSE(start.stdin());
  EXPECT_FALSE(start.tty());

  // A stream that ends without an exit code is a failure of opctl's own.
  FakeController failing;
  failing.exec_end = grpc::Status(grpc::StatusCode::NOT_FOUND, "container \"web-9\" not found");
  Ran missing = RunCommand(failing, "exec", {"web-9", "--", "true"}, RunExec);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("container \"web-9\" not found"));
  EXPECT_EQ(failing.exec_sent[0].start().kind(), "Container");
  // Usage errors send nothing.
  FakeController unused;
  EXPECT_EQ(RunCommand(unused, "exec", {"web-0"}, RunExec).exit_code, 2);
  EXPECT_EQ(RunCommand(unused, "exec", {"web-0", "--replica", "1", "--", "true"}, RunExec).exit_code, 2);
  EXPECT_EQ(RunCommand(unused, "exec", {"volume/data", "--", "true"}, RunExec).exit_code, 2);
  EXPECT_TRUE(unused.exec_sent.empty());
}

}  // namespace
}  // namespace opctl::cli
