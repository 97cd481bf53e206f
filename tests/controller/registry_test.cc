#include "controller/registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <thread>

#include "common/object.h"
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
// deletes, so a write lands between a delete's read and its commit.
class InterferingStore : public Store {
 public:
  explicit InterferingStore(Store& inner) : inner_(inner) {}
  std::function<void()> interfere;

  absl::StatusOr<KeyValue> Get(absl::string_view key) const override { return inner_.Get(key); }
  RangeResult Range(absl::string_view prefix) const override { return inner_.Range(prefix); }
  using Store::Commit;
  void Commit(Transaction transaction, CommitCallback done) override {
    const std::vector<Mutation>& mutations = transaction.mutations;
    bool deletes = std::any_of(mutations.begin(), mutations.end(), [](const Mutation& m) { return !m.value; });
    if (deletes && interfere) std::exchange(interfere, nullptr)();
    inner_.Commit(std::move(transaction), std::move(done));
  }
  int64_t Revision() const override { return inner_.Revision(); }
  int64_t CompactedRevision() const override { return inner_.CompactedRevision(); }
  absl::StatusOr<std::vector<Event>> EventsAfter(int64_t after) const override { return inner_.EventsAfter(after); }
  absl::Status Compact(int64_t revision) override { return inner_.Compact(revision); }
  void SetCommitListener(CommitListener listener) override { inner_.SetCommitListener(std::move(listener)); }

 private:
  Store& inner_;
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

TEST_F(RegistryTest, APlainDeleteDoesNotCutShortADeletionThatWaitsForTheData) {
  v1::Object volume;
  volume.mutable_volume()->mutable_metadata()->set_name("data");
  ASSERT_TRUE(Apply({volume}).ok());
  for (const std::string& name : {"host-a", "host-b"}) {
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
