#include "controller/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/object.h"
#include "controller/store/forwarding_store.h"
#include "controller/store/sqlite_store.h"
#include "tests/controller/test_objects.h"
#include "tests/support/process.h"

namespace opctl::controller {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

template <typename T, typename Call>
absl::StatusOr<T> Sync(Call call) {
  std::promise<absl::StatusOr<T>> promise;
  auto future = promise.get_future();
  call([&](absl::StatusOr<T> result) { promise.set_value(std::move(result)); });
  return future.get();
}

class RegistryTest : public ::testing::Test {
 protected:
  absl::StatusOr<v1::ApplyResponse> Apply(std::vector<v1::Object> objects, bool dry_run = false) {
    return Sync<v1::ApplyResponse>([&](auto done) { registry_.Apply(objects, dry_run, done); });
  }
  absl::StatusOr<v1::DeleteResponse> Delete(const std::string& kind, const std::string& name) {
    v1::DeleteRequest request;
    request.set_kind(kind);
    request.set_name(name);
    return Sync<v1::DeleteResponse>([&](auto done) { registry_.Delete(request, done); });
  }
  std::vector<std::string> Actions(const v1::ApplyResponse& response) {
    std::vector<std::string> actions;
    for (const auto& result : response.results()) actions.push_back(result.name() + " " + result.action());
    return actions;
  }

  std::unique_ptr<SqliteStore> store_ = *SqliteStore::Open(opctl::testing::MakeTempDir("opctl-registry"));
  ManualClock clock_;
  Registry registry_{*store_, clock_};
};

TEST_F(RegistryTest, ApplyReportsCreatedConfiguredUnchanged) {
  v1::Object network = testing::NetworkObject("net", "10.1.0.0/24");
  v1::Object service = testing::ServiceObject("web", 2, {"10.1.0.2", "10.1.0.3"});
  absl::StatusOr<v1::ApplyResponse> first = Apply({network, service});
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_THAT(Actions(*first), ElementsAre("net created", "web created"));
  EXPECT_THAT(Actions(*Apply({network, service})), ElementsAre("net unchanged", "web unchanged"));
  service.mutable_service()->mutable_spec()->mutable_template_()->set_image("busybox:new");
  EXPECT_THAT(Actions(*Apply({network, service})), ElementsAre("net unchanged", "web configured"));

  v1::Object stored = *registry_.Get("service", "web");
  EXPECT_EQ(stored.service().metadata().generation(), 2);
  EXPECT_EQ(stored.service().api_version(), "opctl.io/v1");
  EXPECT_FALSE(stored.service().metadata().uid().empty());
  EXPECT_EQ(stored.service().metadata().resource_version(), store_->Revision());
}

TEST_F(RegistryTest, StaleResourceVersionIsAConflict) {
  v1::Object network = testing::NetworkObject("net", "10.1.0.0/24");
  ASSERT_TRUE(Apply({network}).ok());
  v1::Object read = *registry_.Get("Network", "net");
  read.mutable_network()->mutable_spec()->set_internal(true);
  ASSERT_TRUE(Apply({read}).ok());  // at the version it read: accepted
  read.mutable_network()->mutable_spec()->set_internal(false);
  absl::StatusOr<v1::ApplyResponse> stale = Apply({read});  // the same version again: stale now
  EXPECT_TRUE(absl::IsAborted(stale.status()));
  EXPECT_THAT(std::string(stale.status().message()), HasSubstr("conflict: network/net is at resourceVersion"));
}

TEST_F(RegistryTest, OneBadObjectAndNothingIsStored) {
  v1::Object network = testing::NetworkObject("net", "10.1.0.0/24");
  v1::Object bad = testing::ServiceObject("web", 1, {"10.9.9.9"});
  absl::StatusOr<v1::ApplyResponse> result = Apply({network, bad});
  ASSERT_TRUE(absl::IsInvalidArgument(result.status()));
  std::vector<v1::FieldError> errors = ApplyErrorsOf(result.status());
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].document(), 1);
  EXPECT_EQ(errors[0].field(), "spec.network.addresses[0]");
  EXPECT_EQ(store_->Revision(), 1);
  EXPECT_TRUE(absl::IsNotFound(registry_.Get("network", "net").status()));
}

TEST_F(RegistryTest, DryRunStoresNothing) {
  absl::StatusOr<v1::ApplyResponse> result = Apply({testing::NetworkObject("net", "10.1.0.0/24")}, true);
  ASSERT_TRUE(result.ok());
  EXPECT_THAT(Actions(*result), ElementsAre("net created"));
  EXPECT_EQ(store_->Revision(), 1);
}

TEST_F(RegistryTest, ListFiltersByStackAndSelector) {
  v1::Object a = testing::NetworkObject("a", "10.1.0.0/24");
  (*a.mutable_network()->mutable_metadata()->mutable_labels())["tier"] = "front";
  v1::Object b = testing::NetworkObject("b", "10.2.0.0/24");
  b.mutable_network()->mutable_metadata()->set_stack("other");
  ASSERT_TRUE(Apply({a, b}).ok());
  EXPECT_EQ(registry_.List("networks", "", "tier=front")->items_size(), 1);
  EXPECT_EQ(registry_.List("net", "other", "")->items_size(), 1);
  EXPECT_EQ(registry_.List("", "", "")->items_size(), 2);
  EXPECT_TRUE(absl::IsInvalidArgument(registry_.List("pods", "", "").status()));
}

TEST_F(RegistryTest, DeleteCascadesToOwnedContainersAndGuardsNetworks) {
  ASSERT_TRUE(
      Apply({testing::NetworkObject("net", "10.1.0.0/24"), testing::ServiceObject("web", 1, {"10.1.0.2"})}).ok());
  v1::Object service = *registry_.Get("Service", "web");
  v1::Object container;
  v1::Container* replica = container.mutable_container();
  replica->mutable_metadata()->set_name("web-0");
  v1::OwnerReference* owner = replica->mutable_metadata()->add_owner_references();
  owner->set_kind("Service");
  owner->set_name("web");
  owner->set_uid(service.service().metadata().uid());
  ASSERT_TRUE(Sync<v1::Object>([&](auto done) { registry_.Put(container, done); }).ok());

  absl::StatusOr<v1::DeleteResponse> refused = Delete("Network", "net");
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("network/net is used by service/web"));

  absl::StatusOr<v1::DeleteResponse> deleted = Delete("svc", "web");
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_THAT(deleted->deleted(), ElementsAre("service/web", "container/web-0"));
  EXPECT_TRUE(absl::IsNotFound(registry_.Get("Container", "web-0").status()));
  EXPECT_TRUE(Delete("Network", "net").ok());
  EXPECT_THAT(std::string(Delete("Network", "net").status().message()), HasSubstr("network/net not found"));
}

// Passes everything to a real store; once armed, runs `interfere` just before the next commit that
// `before` picks, so a write lands between another write's read and its commit.
class InterferingStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  std::function<void()> interfere;
  // Which commit to get in ahead of (default: the next one that deletes).
  std::function<bool(const Transaction&)> before = [](const Transaction& transaction) {
    return std::any_of(transaction.mutations.begin(), transaction.mutations.end(),
                       [](const Mutation& m) { return !m.value; });
  };

  using Store::Commit;
  void Commit(Transaction transaction, CommitCallback done) override {
    if (interfere && before(transaction)) std::exchange(interfere, nullptr)();
    inner_.Commit(std::move(transaction), std::move(done));
  }
};

// Agents write their containers' status all the time: a status written between the delete's read
// and its commit must not make deleting the Service fail.
TEST(RegistryDelete, AServiceIsDeletedThoughAContainerStatusChangedMeanwhile) {
  std::unique_ptr<SqliteStore> sqlite = *SqliteStore::Open(opctl::testing::MakeTempDir("opctl-registry-race"));
  InterferingStore store(*sqlite);
  ManualClock clock;
  Registry registry(store, clock);
  ASSERT_TRUE(Sync<v1::ApplyResponse>([&](auto done) {
                registry.Apply({testing::ServiceObject("web", 1)}, false, done);
              }).ok());
  v1::Object container;
  container.mutable_container()->mutable_metadata()->set_name("web-0");
  v1::OwnerReference* owner = container.mutable_container()->mutable_metadata()->add_owner_references();
  owner->set_kind("Service");
  owner->set_name("web");
  owner->set_uid(registry.Get("Service", "web")->service().metadata().uid());
  ASSERT_TRUE(Sync<v1::Object>([&](auto done) { registry.Put(container, done); }).ok());
  store.interfere = [&] {
    v1::Object status = container;
    status.mutable_container()->mutable_status()->set_phase("Running");
    ASSERT_TRUE(Sync<v1::Object>([&](auto done) { registry.UpdateStatus(status, 0, done); }).ok());
  };
  v1::DeleteRequest request;
  request.set_kind("Service");
  request.set_name("web");
  absl::StatusOr<v1::DeleteResponse> deleted =
      Sync<v1::DeleteResponse>([&](auto done) { registry.Delete(request, done); });
  EXPECT_EQ(store.interfere, nullptr) << "the interfering write did not happen";
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_TRUE(absl::IsNotFound(registry.Get("Container", "web-0").status()));
}

// The audit's M9: what the rules across objects read must still hold when the write commits. Each
// case lets a conflicting write commit between another write's checks and its commit.
class RegistryRaceTest : public ::testing::Test {
 protected:
  absl::StatusOr<v1::ApplyResponse> Apply(std::vector<v1::Object> objects) {
    return Sync<v1::ApplyResponse>([&](auto done) { registry_.Apply(objects, false, done); });
  }
  absl::StatusOr<v1::DeleteResponse> Delete(const std::string& kind, const std::string& name, bool data = false) {
    v1::DeleteRequest request;
    request.set_kind(kind);
    request.set_name(name);
    request.set_delete_data(data);
    return Sync<v1::DeleteResponse>([&](auto done) { registry_.Delete(request, done); });
  }
  // Arms the store: just before the next commit that writes `key`, `write` commits first.
  void Before(const std::string& key, std::function<void()> write) {
    store_.before = [key](const Transaction& transaction) {
      return std::any_of(transaction.mutations.begin(), transaction.mutations.end(),
                         [&](const Mutation& m) { return m.key == key; });
    };
    store_.interfere = std::move(write);
  }

  std::unique_ptr<SqliteStore> sqlite_ = *SqliteStore::Open(opctl::testing::MakeTempDir("opctl-registry-races"));
  InterferingStore store_{*sqlite_};
  ManualClock clock_;
  Registry registry_{store_, clock_};
};

TEST_F(RegistryRaceTest, TwoAppliesCannotBothClaimOneStaticAddress) {
  ASSERT_TRUE(Apply({testing::NetworkObject("net", "10.1.0.0/24")}).ok());
  Before(StoreKey("Service", "a"),
         [&] { ASSERT_TRUE(Apply({testing::ServiceObject("b", 1, {"10.1.0.5"})}).ok()) << "b came first"; });
  absl::StatusOr<v1::ApplyResponse> late = Apply({testing::ServiceObject("a", 1, {"10.1.0.5"})});
  EXPECT_EQ(store_.interfere, nullptr) << "the interfering apply did not happen";
  EXPECT_TRUE(absl::IsInvalidArgument(late.status())) << late.status();
  EXPECT_THAT(std::string(late.status().message()), HasSubstr("\"10.1.0.5\" is already used by service/b"));
  EXPECT_TRUE(absl::IsNotFound(registry_.Get("Service", "a").status()));
}

TEST_F(RegistryRaceTest, TwoAppliesCannotBothCreateOverlappingSubnets) {
  Before(StoreKey("Network", "a"), [&] { ASSERT_TRUE(Apply({testing::NetworkObject("b", "10.2.0.0/16")}).ok()); });
  absl::StatusOr<v1::ApplyResponse> late = Apply({testing::NetworkObject("a", "10.2.3.0/24")});
  EXPECT_EQ(store_.interfere, nullptr);
  EXPECT_THAT(std::string(late.status().message()), HasSubstr("overlaps network \"b\""));
}

TEST_F(RegistryRaceTest, ANetworkDeletedWhileAServiceStartsUsingItStays) {
  ASSERT_TRUE(Apply({testing::NetworkObject("net", "10.3.0.0/24")}).ok());
  Before(StoreKey("Network", "net"),
         [&] { ASSERT_TRUE(Apply({testing::ServiceObject("web", 1, {"10.3.0.5"})}).ok()); });
  absl::StatusOr<v1::DeleteResponse> deleted = Delete("Network", "net");
  EXPECT_EQ(store_.interfere, nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(deleted.status())) << deleted.status();
  EXPECT_THAT(std::string(deleted.status().message()), HasSubstr("used by service/web"));
  EXPECT_TRUE(registry_.Get("Network", "net").ok());
}

TEST_F(RegistryRaceTest, AVolumeDeletedWithItsDataWhileAServiceStartsMountingItStays) {
  v1::Object volume;
  volume.mutable_volume()->mutable_metadata()->set_name("data");
  v1::Object node;
  *node.mutable_node() = testing::ReadyNode("host-a", 1LL << 30, 2000);
  ASSERT_TRUE(Apply({volume}).ok());
  ASSERT_TRUE(Sync<v1::Object>([&](auto done) { registry_.Put(node, done); }).ok());
  v1::Object service = testing::ServiceObject("web", 1);
  v1::VolumeMount* mount = service.mutable_service()->mutable_spec()->mutable_template_()->add_volume_mounts();
  mount->set_name("data");
  mount->set_mount_path("/data");
  Before(StoreKey("Volume", "data"), [&] { ASSERT_TRUE(Apply({service}).ok()); });
  absl::StatusOr<v1::DeleteResponse> deleted = Delete("Volume", "data", /*data=*/true);
  EXPECT_EQ(store_.interfere, nullptr);
  EXPECT_TRUE(absl::IsFailedPrecondition(deleted.status())) << deleted.status();
  EXPECT_TRUE(registry_.Get("Volume", "data")->volume().metadata().deletion_timestamp().empty());
  // And the other way round: a Service that mounts a Volume being deleted is refused.
  ASSERT_TRUE(Delete("Service", "web").ok());
  ASSERT_TRUE(Delete("Volume", "data", /*data=*/true).ok());
  absl::StatusOr<v1::ApplyResponse> late = Apply({service});
  EXPECT_THAT(std::string(late.status().message()), HasSubstr("volume \"data\" is being deleted"));
}

// The audit's M1: a replica's own volume (from a volume template) counts as in use, so its data is not
// deleted under it.
TEST_F(RegistryTest, AReplicasTemplateVolumeIsInUseWhileTheReplicaIsWanted) {
  v1::Object service = testing::ServiceObject("web", 2);
  v1::VolumeTemplate* volume = service.mutable_service()->mutable_spec()->add_volume_templates();
  volume->set_name("data");
  volume->set_mount_path("/data");
  ASSERT_TRUE(Apply({service}).ok());
  for (const char* name : {"data-web-0", "data-web-1"}) {
    v1::Object object;
    object.mutable_volume()->mutable_metadata()->set_name(name);
    ASSERT_TRUE(Sync<v1::Object>([&](auto done) { registry_.Put(object, done); }).ok());
  }
  v1::DeleteRequest with_data;
  with_data.set_kind("Volume");
  with_data.set_name("data-web-1");
  with_data.set_delete_data(true);
  absl::StatusOr<v1::DeleteResponse> refused =
      Sync<v1::DeleteResponse>([&](auto done) { registry_.Delete(with_data, done); });
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("volume/data-web-1 is used by service/web"));
  // Scaled down to one replica, web-1's volume is no one's: it may go.
  ASSERT_TRUE(Sync<v1::Object>([&](auto done) { registry_.Scale("web", 1, done); }).ok());
  EXPECT_TRUE(Sync<v1::DeleteResponse>([&](auto done) { registry_.Delete(with_data, done); }).ok());
}

// The audit's L12: lists come in pages, as Kubernetes' do (limit and continue).
TEST_F(RegistryTest, ListsComeInPagesWithAContinueToken) {
  std::vector<v1::Object> volumes;
  for (int i = 0; i < 25; ++i) {
    v1::Object volume;
    volume.mutable_volume()->mutable_metadata()->set_name(absl::StrCat("v", 100 + i));
    (*volume.mutable_volume()->mutable_metadata()->mutable_labels())["even"] = i % 2 ? "no" : "yes";
    volumes.push_back(volume);
  }
  ASSERT_TRUE(Apply(volumes).ok());
  std::vector<std::string> seen;
  std::string token;
  int pages = 0;
  do {
    absl::StatusOr<v1::ListResponse> page = registry_.ListPage("Volume", "", "", 10, token, nullptr);
    ASSERT_TRUE(page.ok()) << page.status();
    EXPECT_LE(page->items_size(), 10);
    for (const v1::Object& item : page->items()) seen.push_back(item.volume().metadata().name());
    token = page->continue_();
    ++pages;
  } while (!token.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(seen.size(), 25u);
  EXPECT_EQ(seen.front(), "v100");
  EXPECT_EQ(seen.back(), "v124");
  // The limit counts matching objects: 13 even ones, in two pages of at most 7.
  absl::StatusOr<v1::ListResponse> even = registry_.ListPage("Volume", "", "even=yes", 7, "", nullptr);
  ASSERT_TRUE(even.ok());
  EXPECT_EQ(even->items_size(), 7);
  absl::StatusOr<v1::ListResponse> rest = registry_.ListPage("Volume", "", "even=yes", 7, even->continue_(), nullptr);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(rest->items_size(), 6);
  EXPECT_TRUE(rest->continue_().empty());
  EXPECT_TRUE(
      absl::IsInvalidArgument(registry_.ListPage("Volume", "", "", 10, "/objects/Service/x", nullptr).status()));
}

TEST_F(RegistryTest, APlainDeleteDoesNotCutShortADeletionThatWaitsForTheData) {
  v1::Object volume;
  volume.mutable_volume()->mutable_metadata()->set_name("data");
  ASSERT_TRUE(Apply({volume}).ok());
  for (const char* name : {"host-a", "host-b"}) {
    v1::Object node;
    *node.mutable_node() = testing::ReadyNode(name, 1LL << 30, 2000);
    ASSERT_TRUE(Sync<v1::Object>([&](auto done) { registry_.Put(node, done); }).ok());
  }
  v1::DeleteRequest with_data;
  with_data.set_kind("Volume");
  with_data.set_name("data");
  with_data.set_delete_data(true);
  ASSERT_TRUE(Sync<v1::DeleteResponse>([&](auto done) { registry_.Delete(with_data, done); }).ok());
  // The agents have not removed the data yet: a second, plain delete leaves the object to them.
  ASSERT_TRUE(Delete("Volume", "data").ok());
  absl::StatusOr<v1::Object> pending = registry_.Get("Volume", "data");
  ASSERT_TRUE(pending.ok()) << "the Volume went before its data";
  EXPECT_FALSE(pending->volume().metadata().deletion_timestamp().empty());
  // One finalizer per node: each node removes its own copy of the data.
  EXPECT_THAT(pending->volume().metadata().finalizers(),
              ElementsAre(DeleteDataFinalizer("host-a"), DeleteDataFinalizer("host-b")));
  ASSERT_TRUE(Sync<v1::Object>([&](auto done) {
                registry_.ReleaseFinalizer("Volume", "data", DeleteDataFinalizer("host-a"), done);
              }).ok());
  EXPECT_TRUE(registry_.Get("Volume", "data").ok()) << "host-b still holds the data";
  ASSERT_TRUE(Sync<v1::Object>([&](auto done) {
                registry_.ReleaseFinalizer("Volume", "data", DeleteDataFinalizer("host-b"), done);
              }).ok());
  EXPECT_TRUE(absl::IsNotFound(registry_.Get("Volume", "data").status()));
}

TEST_F(RegistryTest, AVolumeWithoutAnyNodeIsDeletedAtOnce) {
  v1::Object volume;
  volume.mutable_volume()->mutable_metadata()->set_name("data");
  ASSERT_TRUE(Apply({volume}).ok());
  v1::DeleteRequest with_data;
  with_data.set_kind("Volume");
  with_data.set_name("data");
  with_data.set_delete_data(true);
  ASSERT_TRUE(Sync<v1::DeleteResponse>([&](auto done) { registry_.Delete(with_data, done); }).ok());
  EXPECT_TRUE(absl::IsNotFound(registry_.Get("Volume", "data").status()));
}

TEST_F(RegistryTest, UpdateStatusTouchesOnlyStatus) {
  ASSERT_TRUE(Apply({testing::ServiceObject("web", 1)}).ok());
  v1::Object update = *registry_.Get("Service", "web");
  update.mutable_service()->mutable_spec()->set_replicas(9);  // ignored
  update.mutable_service()->mutable_status()->set_ready_replicas(1);
  ASSERT_TRUE(Sync<v1::Object>([&](auto done) { registry_.UpdateStatus(update, 0, done); }).ok());
  v1::Object stored = *registry_.Get("Service", "web");
  EXPECT_EQ(stored.service().spec().replicas(), 1);
  EXPECT_EQ(stored.service().status().ready_replicas(), 1);
}

TEST_F(RegistryTest, ScaleChecksAddresses) {
  ASSERT_TRUE(
      Apply({testing::NetworkObject("net", "10.1.0.0/24"), testing::ServiceObject("web", 1, {"10.1.0.2", "10.1.0.3"})})
          .ok());
  ASSERT_TRUE(Sync<v1::Object>([&](auto done) { registry_.Scale("web", 2, done); }).ok());
  EXPECT_EQ(registry_.Get("Service", "web")->service().spec().replicas(), 2);
  absl::StatusOr<v1::Object> too_many = Sync<v1::Object>([&](auto done) { registry_.Scale("web", 3, done); });
  EXPECT_TRUE(absl::IsInvalidArgument(too_many.status()));
  EXPECT_THAT(std::string(too_many.status().message()), HasSubstr("3 replicas need 3 static addresses"));
}

}  // namespace
}  // namespace opctl::controller
