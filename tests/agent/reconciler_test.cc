#include "agent/reconciler.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>

#include "agent/container_spec.h"
#include "agent/volume_archiver.h"
#include "common/object.h"
#include "common/validation.h"
#include "tests/agent/fake_docker_client.h"
#include "tests/support/process.h"

namespace opctl::agent {
namespace {

using ::testing::HasSubstr;

constexpr char kNode[] = "host-a";
constexpr char kImage[] = "opctl/busybox:test";

// Records what the reconciler reports, as the controller would store it.
class RecordingSink : public StatusSink {
 public:
  std::map<std::string, v1::ContainerStatus> statuses;
  std::vector<std::string> released;
  absl::Status UpdateContainerStatus(const std::string& name, const v1::ContainerStatus& status) override {
    statuses[name] = status;
    return absl::OkStatus();
  }
  absl::Status ReleaseFinalizer(const std::string& kind, const std::string& name,
                                const std::string& finalizer) override {
    released.push_back(kind + "/" + name);
    return absl::OkStatus();
  }
};

// Records the Events the reconciler reports.
class RecordingEvents : public EventRecorder {
 public:
  void Record(EventOccurrence occurrence) override {
    absl::MutexLock lock(&mutex_);
    occurrences_.push_back(std::move(occurrence));
  }
  // "Reason xCOUNT: message" for each of `name`'s, in order.
  std::vector<std::string> Of(const std::string& name) {
    absl::MutexLock lock(&mutex_);
    std::vector<std::string> found;
    for (const EventOccurrence& occurrence : occurrences_) {
      if (occurrence.name == name) {
        found.push_back(absl::StrCat(occurrence.reason, " x", occurrence.count, ": ", occurrence.message));
      }
    }
    return found;
  }

 private:
  absl::Mutex mutex_;
  std::vector<EventOccurrence> occurrences_;
};

v1::Object Network() {
  v1::Object object;
  object.mutable_network()->mutable_metadata()->set_name("net");
  object.mutable_network()->mutable_spec()->set_subnet("10.7.0.0/24");
  return object;
}

v1::Object Container(const std::string& name, const std::string& image = kImage) {
  v1::Object object;
  v1::Container* container = object.mutable_container();
  container->mutable_metadata()->set_name(name);
  container->mutable_metadata()->set_uid("uid-" + name);
  container->mutable_spec()->set_node_name(kNode);
  container->mutable_spec()->mutable_network()->set_name("net");
  container->mutable_spec()->mutable_network()->set_ipv4_address("10.7.0.5");
  v1::ContainerTemplate* t = container->mutable_spec()->mutable_template_();
  t->set_image(image);
  t->mutable_resources()->set_memory_limit("64m");
  t->mutable_resources()->set_cpus("500m");
  v1::VolumeMount* mount = t->add_volume_mounts();
  mount->set_name("data");
  mount->set_mount_path("/data");
  return object;
}

class ReconcilerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    docker_.images.insert(kImage);
    options_.node_name = kNode;
    options_.unhealthy_restart_after = absl::Seconds(30);
    options_.check_host_routes = false;  // the fake Docker is not this host
    options_.events = &events_;
    reconciler_ = std::make_unique<Reconciler>(docker_, desired_, sink_, clock_, options_);
  }
  void Want(std::vector<v1::Object> objects) {
    objects.push_back(Network());
    desired_.Replace(objects, 1);
  }
  absl::StatusOr<absl::Duration> Pass(const std::string& key) { return reconciler_->Reconcile(key); }

  testing::FakeDockerClient docker_;
  DesiredState desired_;
  RecordingSink sink_;
  RecordingEvents events_;
  ManualClock clock_;
  ReconcilerOptions options_;
  std::unique_ptr<Reconciler> reconciler_;
};

TEST_F(ReconcilerTest, CreatesWhatIsMissingWithLabelsLimitsAndAddress) {
  Want({Container("web-0")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  const DockerContainer* created = docker_.ByName("web-0");
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->state, "running");
  EXPECT_EQ(created->labels.at(kManagedByLabel), "opctl");
  EXPECT_EQ(created->labels.at(kNodeLabel), kNode);
  EXPECT_EQ(created->labels.at(kUidLabel), "uid-web-0");
  const DockerContainerSpec& spec = docker_.specs[created->id];
  EXPECT_EQ(spec.memory_bytes, 64 << 20);
  EXPECT_EQ(spec.nano_cpus, 500'000'000);
  EXPECT_EQ(spec.ipv4_address, "10.7.0.5");
  EXPECT_EQ(spec.restart_policy, "unless-stopped");
  EXPECT_EQ(docker_.networks.size(), 1u);
  EXPECT_EQ(docker_.networks.begin()->second.subnet, "10.7.0.0/24");
  EXPECT_TRUE(docker_.volumes.count("data"));
  EXPECT_EQ(sink_.statuses["web-0"].phase(), "Running");
  EXPECT_EQ(sink_.statuses["web-0"].ip_address(), "10.7.0.5");
}

TEST_F(ReconcilerTest, AttachesAdditionalNetworksBeforeStarting) {
  v1::Object exporter = Container("exporter-0");
  v1::ContainerNetwork* extra = exporter.mutable_container()->mutable_spec()->add_additional_networks();
  extra->set_name("monitoring");
  extra->set_ipv4_address("10.9.0.3");
  v1::Object monitoring;
  monitoring.mutable_network()->mutable_metadata()->set_name("monitoring");
  monitoring.mutable_network()->mutable_spec()->set_subnet("10.9.0.0/24");
  Want({exporter, monitoring});
  ASSERT_TRUE(Pass("container/exporter-0").ok());
  const DockerContainer* created = docker_.ByName("exporter-0");
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->network_addresses.at("monitoring"), "10.9.0.3");
  EXPECT_EQ(created->network_addresses.at("net"), "10.7.0.5");
  EXPECT_EQ(docker_.networks.size(), 2u);
  // Connected before the start, not after.
  auto connect = std::find(docker_.calls.begin(), docker_.calls.end(), "connect monitoring " + created->id);
  auto start = std::find(docker_.calls.begin(), docker_.calls.end(), "start " + created->id);
  EXPECT_LT(connect, start);
}

TEST_F(ReconcilerTest, AdoptsAMatchingContainer) {
  Want({Container("web-0")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  std::string id = docker_.ByName("web-0")->id;
  // A new agent (restart) with the same desired state creates nothing.
  Reconciler restarted(docker_, desired_, sink_, clock_, options_);
  ASSERT_TRUE(restarted.Reconcile("container/web-0").ok());
  EXPECT_EQ(docker_.Count("create web-0"), 1);
  EXPECT_EQ(docker_.ByName("web-0")->id, id);
}

TEST_F(ReconcilerTest, RecreatesWhenTheSpecHashChanges) {
  Want({Container("web-0")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  std::string old_id = docker_.ByName("web-0")->id;
  docker_.images.insert("opctl/busybox:v2");
  v1::Object changed = Container("web-0", "opctl/busybox:v2");
  changed.mutable_container()->mutable_status()->set_container_id(old_id);
  Want({changed});
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_FALSE(docker_.containers.count(old_id));
  EXPECT_EQ(docker_.specs[docker_.ByName("web-0")->id].image, "opctl/busybox:v2");
  EXPECT_EQ(docker_.specs[docker_.ByName("web-0")->id].ipv4_address, "10.7.0.5") << "same address";
  EXPECT_EQ(sink_.statuses["web-0"].restart_count(), 1);
}

TEST_F(ReconcilerTest, AnEvictedContainerIsRemovedAndReportedRemovedWhileStillBoundHere) {
  Want({Container("web-0")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  ASSERT_NE(docker_.ByName("web-0"), nullptr);
  v1::Object evicted = Container("web-0");
  evicted.mutable_container()->mutable_spec()->set_evicting(true);
  evicted.mutable_container()->mutable_metadata()->set_generation(2);
  Want({evicted});
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_EQ(docker_.ByName("web-0"), nullptr);
  EXPECT_EQ(sink_.statuses["web-0"].phase(), "Removed");
  EXPECT_EQ(sink_.statuses["web-0"].observed_generation(), 2) << "the controller moves it on this report only";
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_EQ(docker_.ByName("web-0"), nullptr) << "not started again while evicting";
}

TEST_F(ReconcilerTest, StartsAKilledContainerAndCountsIt) {
  Want({Container("web-0")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  DockerContainer& container = docker_.containers[docker_.ByName("web-0")->id];
  container.state = "exited";
  container.exit_code = 137;
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_EQ(docker_.ByName("web-0")->state, "running");
  EXPECT_EQ(sink_.statuses["web-0"].restart_count(), 1);
}

TEST_F(ReconcilerTest, EventsTellCreatedStartedHealedAndEachRestartDockerMade) {
  Want({Container("web-0")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_THAT(events_.Of("web-0"),
              ::testing::ElementsAre(HasSubstr("Created x1: image opctl/busybox:test"), HasSubstr("Started x1")));
  // Docker's restart policy brought it back 1000 times between two looks: one occurrence, counted.
  docker_.containers[docker_.ByName("web-0")->id].restart_count = 1000;
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_THAT(events_.Of("web-0").back(), HasSubstr("BackOff x1000: Docker restarted the container"));
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_EQ(events_.Of("web-0").size(), 3u) << "no restart since: no new Event";
  // Killed by hand: the agent starts it again and says what it found.
  DockerContainer& container = docker_.containers[docker_.ByName("web-0")->id];
  container.state = "exited";
  container.exit_code = 137;
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_THAT(events_.Of("web-0").back(), HasSubstr("Healed x1: found exited (exit code 137)"));
  // Removed by hand: made again.
  v1::Object reported = Container("web-0");
  *reported.mutable_container()->mutable_status() = sink_.statuses["web-0"];
  Want({reported});
  docker_.containers.clear();
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_THAT(events_.Of("web-0"), ::testing::Contains(HasSubstr("Healed x1: its Docker container was gone")));
  // No longer wanted here.
  Want({});
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_THAT(events_.Of("web-0").back(), HasSubstr("Killing x1: stopped and removed"));
}

TEST_F(ReconcilerTest, RestartPolicyNoLeavesAnExitedContainer) {
  v1::Object once = Container("job-0");
  once.mutable_container()->mutable_spec()->mutable_template_()->set_restart_policy("no");
  Want({once});
  ASSERT_TRUE(Pass("container/job-0").ok());
  docker_.containers[docker_.ByName("job-0")->id].state = "exited";
  ASSERT_TRUE(Pass("container/job-0").ok());
  EXPECT_EQ(docker_.ByName("job-0")->state, "exited");
  EXPECT_EQ(sink_.statuses["job-0"].phase(), "Exited");
}

TEST_F(ReconcilerTest, RemovesWhatNobodyWantsAndNeverTouchesUnmanaged) {
  Want({Container("web-0"), Container("web-1")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  ASSERT_TRUE(Pass("container/web-1").ok());
  std::string unmanaged = docker_.AddUnmanagedContainer("someone-elses");
  Want({Container("web-0")});
  ASSERT_TRUE(Pass(kGcKey).ok());
  EXPECT_EQ(docker_.ByName("web-1"), nullptr);
  EXPECT_NE(docker_.ByName("web-0"), nullptr);
  EXPECT_TRUE(docker_.containers.count(unmanaged));
  EXPECT_TRUE(docker_.volumes.count("data")) << "volumes are never garbage-collected";
}

TEST_F(ReconcilerTest, MissingImageIsReportedAndRetriedWithoutBlockingOthers) {
  options_.pull_policy = PullPolicy::kMissing;  // the default pulls only from named registries
  Reconciler reconciler(docker_, desired_, sink_, clock_, options_);
  Want({Container("broken-0", "nowhere/image:1"), Container("web-0")});
  auto Pass = [&](const std::string& key) { return reconciler.Reconcile(key); };
  absl::StatusOr<absl::Duration> broken = Pass("container/broken-0");
  EXPECT_FALSE(broken.ok());
  EXPECT_EQ(docker_.Count("pull nowhere/image:1"), 1);
  const v1::ContainerStatus& status = sink_.statuses["broken-0"];
  EXPECT_EQ(status.phase(), "Pending");
  EXPECT_THAT(status.last_error(),
              HasSubstr("image nowhere/image:1 is not on this host and cannot be pulled: pull access denied"));
  EXPECT_THAT(events_.Of("broken-0"), ::testing::ElementsAre(HasSubstr("Pulling x1: pulling image nowhere/image:1"),
                                                             HasSubstr("ImageNotFound x1: image nowhere/image:1")));
  EXPECT_TRUE(Pass("container/web-0").ok());
  EXPECT_EQ(sink_.statuses["web-0"].phase(), "Running");
  // Once the image can be had, the next retry succeeds.
  docker_.pullable.insert("nowhere/image:1");
  EXPECT_TRUE(Pass("container/broken-0").ok());
  EXPECT_THAT(events_.Of("broken-0"), ::testing::Contains(HasSubstr("Pulled x1: pulled image nowhere/image:1 in ")));
  EXPECT_EQ(sink_.statuses["broken-0"].phase(), "Running");
}

TEST_F(ReconcilerTest, AnImageRunningAsRootIsRefusedUntilTheManifestSetsAUser) {
  docker_.images.insert("opctl/busybox:root");
  docker_.image_users["opctl/busybox:root"] = "";
  v1::Object container = Container("web-0", "opctl/busybox:root");
  Want({container});
  EXPECT_FALSE(Pass("container/web-0").ok());
  EXPECT_EQ(docker_.ByName("web-0"), nullptr);
  const v1::ContainerStatus& refused = sink_.statuses["web-0"];
  EXPECT_EQ(refused.phase(), "Failed");
  ASSERT_EQ(refused.conditions_size(), 1);
  EXPECT_EQ(refused.conditions(0).reason(), "RunsAsRoot");
  EXPECT_THAT(refused.last_error(), HasSubstr("image opctl/busybox:root runs as root (its USER is unset)"));
  EXPECT_THAT(refused.last_error(), HasSubstr("set spec.template.user"));
  // Root on purpose is the manifest's to say.
  container.mutable_container()->mutable_spec()->mutable_template_()->set_user("0");
  Want({container});
  ASSERT_TRUE(Pass("container/web-0").ok());
  ASSERT_NE(docker_.ByName("web-0"), nullptr);
  EXPECT_EQ(docker_.specs[docker_.ByName("web-0")->id].user, "0");
}

TEST_F(ReconcilerTest, SecurityContextAndHostPathsReachDocker) {
  v1::Object container = Container("web-0");
  v1::ContainerTemplate* t = container.mutable_container()->mutable_spec()->mutable_template_();
  t->mutable_security_context()->set_privileged(true);
  t->mutable_security_context()->mutable_capabilities()->add_add("NET_ADMIN");
  t->mutable_security_context()->mutable_capabilities()->add_drop("ALL");
  t->mutable_security_context()->set_read_only_root_filesystem(true);
  t->set_host_pid(true);
  // A real directory under the policy's root, reached through a symlink: Docker gets the real path.
  std::string root = opctl::testing::MakeTempDir("opctl-reconciler-hostpath");
  std::filesystem::create_directories(root + "/web");
  std::filesystem::create_directory_symlink(root + "/web", root + "/current");
  std::string real = std::filesystem::canonical(root + "/web").string();
  container.mutable_container()->mutable_spec()->add_host_path_roots(root);
  v1::VolumeMount* bind = t->add_volume_mounts();
  bind->set_host_path(root + "/current");
  bind->set_mount_path("/srv");
  bind->set_read_only(true);
  Want({container});
  ASSERT_TRUE(Pass("container/web-0").ok());
  const DockerContainerSpec& spec = docker_.specs[docker_.ByName("web-0")->id];
  EXPECT_TRUE(spec.privileged);
  EXPECT_EQ(spec.cap_add, std::vector<std::string>{"NET_ADMIN"});
  EXPECT_EQ(spec.cap_drop, std::vector<std::string>{"ALL"});
  EXPECT_TRUE(spec.read_only_root_filesystem);
  EXPECT_TRUE(spec.host_pid);
  ASSERT_EQ(spec.mounts.size(), 2u);
  EXPECT_EQ(spec.mounts[1].host_path, real);
  EXPECT_EQ(spec.mounts[1].volume, "");
  EXPECT_TRUE(spec.mounts[1].read_only);
  EXPECT_EQ(spec.labels.at(kHostPathsLabel), real + "\n");
  // Restarted by the agent, which checks the path first, never by Docker on its own.
  EXPECT_EQ(spec.restart_policy, "no");
  // A host path is no volume: none is made for it.
  EXPECT_EQ(docker_.volumes.size(), 1u);

  // The symlink is swapped for one to another directory after creation: the container is not started
  // again; the next pass makes a new one, checked from scratch, and refused since it leads outside.
  std::string outside = opctl::testing::MakeTempDir("opctl-reconciler-outside");
  std::filesystem::remove(root + "/current");
  std::filesystem::create_directory_symlink(outside, root + "/current");
  docker_.containers[docker_.ByName("web-0")->id].state = "exited";
  EXPECT_FALSE(Pass("container/web-0").ok());
  EXPECT_EQ(docker_.ByName("web-0"), nullptr) << "removed, not started";
  absl::Status refused = Pass("container/web-0").status();
  EXPECT_THAT(refused.message(), HasSubstr("outside the controller policy's hostPathRoots"));
  EXPECT_EQ(docker_.ByName("web-0"), nullptr);
  std::filesystem::remove_all(root);
  std::filesystem::remove_all(outside);
}

// Validation refuses these in a manifest's template labels: the list there must hold every one.
TEST(ContainerLabels, TheAgentsOwnLabelsAreReservedInManifests) {
  for (const char* label : {kManagedByLabel, kNodeLabel, kKindLabel, kNameLabel, kUidLabel, kStackLabel, kSpecHashLabel,
                            kMovesOnNodeLossLabel, kHostPathsLabel, kHelperLabel}) {
    EXPECT_TRUE(IsReservedLabel(label)) << label;
  }
  EXPECT_FALSE(IsReservedLabel(kPreStopCommandLabel)) << "the manifest may set its own hooks";
  EXPECT_FALSE(IsReservedLabel("opctl.io/restarted-at")) << "rollout restart's";
}

TEST_F(ReconcilerTest, EveryContainerGetsAPidLimitNoNewPrivilegesAndARotatedLog) {
  Want({Container("web-0")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  const DockerContainerSpec& defaults = docker_.specs[docker_.ByName("web-0")->id];
  EXPECT_EQ(defaults.pids_limit, kDefaultPidsLimit);
  EXPECT_TRUE(defaults.no_new_privileges);
  EXPECT_EQ(defaults.log_max_bytes, kDefaultLogMaxBytes);
  EXPECT_EQ(defaults.log_max_files, kDefaultLogMaxFiles);

  v1::Object overridden = Container("web-1");
  v1::ContainerTemplate* t = overridden.mutable_container()->mutable_spec()->mutable_template_();
  t->mutable_resources()->set_pids_limit(-1);
  t->mutable_security_context()->set_allow_privilege_escalation(true);
  t->mutable_logs()->set_max_size("1m");
  t->mutable_logs()->set_max_files(5);
  Want({Container("web-0"), overridden});
  ASSERT_TRUE(Pass("container/web-1").ok());
  const DockerContainerSpec& chosen = docker_.specs[docker_.ByName("web-1")->id];
  EXPECT_EQ(chosen.pids_limit, -1);
  EXPECT_FALSE(chosen.no_new_privileges);
  EXPECT_EQ(chosen.log_max_bytes, 1 << 20);
  EXPECT_EQ(chosen.log_max_files, 5);
}

// A log driver the node's dockerd does not offer fails the container, saying which it has; "none"
// is never listed and always there.
TEST_F(ReconcilerTest, ALogDriverTheNodeDoesNotOfferFailsTheContainerNamingWhatItHas) {
  options_.log_drivers = {"json-file", "local"};
  Reconciler limited(docker_, desired_, sink_, clock_, options_);
  v1::Object shipped = Container("web-0");
  shipped.mutable_container()->mutable_spec()->mutable_template_()->mutable_logs()->set_driver("syslog");
  v1::Object silent = Container("web-1");
  silent.mutable_container()->mutable_spec()->mutable_template_()->mutable_logs()->set_driver("none");
  Want({shipped, silent});
  EXPECT_FALSE(limited.Reconcile("container/web-0").ok());
  EXPECT_EQ(docker_.ByName("web-0"), nullptr);
  const v1::ContainerStatus& refused = sink_.statuses["web-0"];
  EXPECT_EQ(refused.phase(), "Failed");
  ASSERT_EQ(refused.conditions_size(), 1);
  EXPECT_EQ(refused.conditions(0).reason(), "LogDriverUnavailable");
  EXPECT_THAT(refused.last_error(),
              HasSubstr("log driver syslog is not offered by this node's dockerd (it has: json-file, local)"));
  ASSERT_TRUE(limited.Reconcile("container/web-1").ok());
  EXPECT_EQ(docker_.specs[docker_.ByName("web-1")->id].log_driver, "none");
  EXPECT_EQ(docker_.specs[docker_.ByName("web-1")->id].log_max_files, 0) << "none keeps no files";
}

TEST_F(ReconcilerTest, PullPolicyExplicitRegistryNeverAsksDockerHub) {
  options_.pull_policy = PullPolicy::kExplicitRegistry;
  Reconciler strict(docker_, desired_, sink_, clock_, options_);
  docker_.pullable.insert("opctl/grafana:10");
  docker_.pullable.insert("127.0.0.1:5000/opctl/grafana:10");
  Want({Container("hub-0", "opctl/grafana:10"), Container("local-0", "127.0.0.1:5000/opctl/grafana:10")});
  EXPECT_FALSE(strict.Reconcile("container/hub-0").ok());
  EXPECT_EQ(docker_.Count("pull opctl/grafana:10"), 0);
  EXPECT_THAT(sink_.statuses["hub-0"].last_error(), HasSubstr("names no registry to pull from"));
  EXPECT_TRUE(strict.Reconcile("container/local-0").ok());
  EXPECT_EQ(docker_.Count("pull 127.0.0.1:5000/opctl/grafana:10"), 1);
}

TEST_F(ReconcilerTest, NameTakenByAnUnmanagedContainerIsAClearFailure) {
  std::string unmanaged = docker_.AddUnmanagedContainer("web-0");
  Want({Container("web-0")});
  EXPECT_TRUE(absl::IsFailedPrecondition(Pass("container/web-0").status()));
  EXPECT_THAT(sink_.statuses["web-0"].last_error(), HasSubstr("not managed by opctl"));
  EXPECT_TRUE(docker_.containers.count(unmanaged));
}

TEST_F(ReconcilerTest, AContainerGoneMeanwhileIsNoError) {
  Want({Container("web-0")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  std::string id = docker_.ByName("web-0")->id;
  Want({});
  docker_.containers.erase(id);  // removed by hand between listing and removal: 404 is fine
  EXPECT_TRUE(Pass("container/web-0").ok());
  EXPECT_TRUE(Pass(kGcKey).ok());
}

TEST_F(ReconcilerTest, UnhealthyTooLongIsRestarted) {
  v1::Object checked = Container("web-0");
  checked.mutable_container()->mutable_spec()->mutable_template_()->mutable_healthcheck()->add_test("CMD");
  checked.mutable_container()->mutable_spec()->mutable_template_()->mutable_healthcheck()->add_test("true");
  Want({checked});
  ASSERT_TRUE(Pass("container/web-0").ok());
  std::string id = docker_.ByName("web-0")->id;
  docker_.containers[id].health = "unhealthy";
  absl::StatusOr<absl::Duration> again = Pass("container/web-0");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, absl::Seconds(30)) << "looks again when the grace is over";
  EXPECT_EQ(docker_.Count("restart"), 0);
  clock_.Advance(absl::Seconds(31));
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_EQ(docker_.Count("restart " + id), 1);
  EXPECT_EQ(sink_.statuses["web-0"].restart_count(), 1);
  EXPECT_THAT(events_.Of("web-0"), ::testing::IsSupersetOf({HasSubstr("Unhealthy x1: health check failing"),
                                                            HasSubstr("Killing x1: unhealthy for 31s: restarted it")}));
}

TEST_F(ReconcilerTest, NetworkWithADifferentSubnetIsRecreatedOnlyWhenUnused) {
  Want({Container("web-0")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  v1::Object moved = Network();
  moved.mutable_network()->mutable_spec()->set_subnet("10.8.0.0/24");
  desired_.Replace({Container("web-0"), moved}, 2);
  absl::StatusOr<absl::Duration> refused = Pass("container/web-0");
  EXPECT_FALSE(refused.ok());
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("1 container(s) use it"));
  docker_.containers.clear();  // once nothing uses it, the network is recreated and the container follows
  ASSERT_TRUE(Pass("container/web-0").ok());
  EXPECT_EQ(docker_.networks.begin()->second.subnet, "10.8.0.0/24");
  EXPECT_NE(docker_.ByName("web-0"), nullptr);
}

TEST_F(ReconcilerTest, VolumeDeletedWithItsDataIsRemovedThenReleased) {
  Want({Container("web-0")});
  ASSERT_TRUE(Pass("container/web-0").ok());
  docker_.containers.clear();
  v1::Object volume;
  volume.mutable_volume()->mutable_metadata()->set_name("data");
  volume.mutable_volume()->mutable_metadata()->set_deletion_timestamp("2026-01-01T00:00:00Z");
  // Another node's finalizer is that node's to release.
  volume.mutable_volume()->mutable_metadata()->add_finalizers(DeleteDataFinalizer("host-b"));
  desired_.Replace({volume, Network()}, 3);
  ASSERT_TRUE(Pass("volume/data").ok());
  EXPECT_TRUE(docker_.volumes.count("data"));
  EXPECT_THAT(sink_.released, ::testing::IsEmpty());
  volume.mutable_volume()->mutable_metadata()->add_finalizers(DeleteDataFinalizer(kNode));
  desired_.Replace({volume, Network()}, 4);
  ASSERT_TRUE(Pass("volume/data").ok());
  EXPECT_FALSE(docker_.volumes.count("data"));
  EXPECT_THAT(sink_.released, ::testing::ElementsAre("Volume/data"));
}

}  // namespace
}  // namespace opctl::agent
