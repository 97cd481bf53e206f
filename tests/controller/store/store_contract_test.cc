// The Store contract, run against both backends: SQLite on a fresh directory and etcd (a real,
// single-member cluster of Debian's etcd-server per test). Revisions are counted from where the store
// starts, since etcd's first revision is its own.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "controller/store/etcd_store.h"
#include "controller/store/sqlite_store.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/process.h"

namespace opctl::controller {
namespace {

using ::testing::HasSubstr;

Mutation Put(const std::string& key, const std::string& value, std::optional<int64_t> expected = std::nullopt) {
  return Mutation{key, value, expected};
}
Mutation Delete(const std::string& key) { return Mutation{key, std::nullopt, std::nullopt}; }

absl::StatusOr<int64_t> CommitUnder(Store& store, std::vector<Mutation> mutations,
                                    std::vector<Precondition> conditions) {
  std::promise<absl::StatusOr<int64_t>> answer;
  store.Commit(Transaction{std::move(mutations), std::move(conditions)},
               [&](absl::StatusOr<int64_t> revision) { answer.set_value(revision); });
  return answer.get_future().get();
}

enum class Backend { kSqlite, kEtcd };

class StoreContractTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kSqlite) {
      absl::StatusOr<std::unique_ptr<SqliteStore>> opened = SqliteStore::Open(testing::MakeTempDir("opctl-store"));
      ASSERT_TRUE(opened.ok()) << opened.status();
      store_ = *std::move(opened);
    } else {
      absl::StatusOr<std::unique_ptr<testing::EtcdCluster>> cluster = testing::EtcdCluster::Start(1);
      ASSERT_TRUE(cluster.ok()) << cluster.status();
      etcd_ = *std::move(cluster);
      absl::StatusOr<std::unique_ptr<EtcdStore>> opened = EtcdStore::Open(etcd_->StoreOptions());
      ASSERT_TRUE(opened.ok()) << opened.status();
      store_ = *std::move(opened);
    }
    base_ = store_->Revision();
  }
  void TearDown() override {
    store_.reset();
    etcd_.reset();
  }

  std::unique_ptr<testing::EtcdCluster> etcd_;
  std::unique_ptr<Store> store_;
  int64_t base_ = 0;  // the revision the store started at
};

TEST_P(StoreContractTest, EveryCommitIsOneRevision) {
  EXPECT_EQ(*store_->CommitAndWait({Put("/a", "1"), Put("/b", "1")}), base_ + 1);
  EXPECT_EQ(*store_->CommitAndWait({Put("/a", "2")}), base_ + 2);
  EXPECT_EQ(store_->Revision(), base_ + 2);  // the writer reads its own write
  absl::StatusOr<KeyValue> a = store_->Get("/a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->value, "2");
  EXPECT_EQ(a->create_revision, base_ + 1);
  EXPECT_EQ(a->mod_revision, base_ + 2);
  EXPECT_EQ(a->version, 2);
  EXPECT_EQ(store_->Get("/b")->mod_revision, base_ + 1);
  EXPECT_TRUE(absl::IsNotFound(store_->Get("/c").status()));
}

TEST_P(StoreContractTest, RangeReadsAPrefixAtOneRevisionAndPages) {
  ASSERT_TRUE(store_->CommitAndWait({Put("/x/1", "a"), Put("/x/2", "b"), Put("/x/3", "c"), Put("/y/1", "d")}).ok());
  RangeResult range = store_->Range("/x/");
  ASSERT_EQ(range.kvs.size(), 3u);
  EXPECT_EQ(range.kvs[0].key, "/x/1");
  EXPECT_EQ(range.revision, base_ + 1);
  RangeResult page = store_->RangePage("/x/", "/x/1", 1);
  ASSERT_EQ(page.kvs.size(), 1u);
  EXPECT_EQ(page.kvs[0].key, "/x/2");
}

TEST_P(StoreContractTest, StaleExpectationAbortsTheWholeTransaction) {
  ASSERT_TRUE(store_->CommitAndWait({Put("/a", "1")}).ok());
  // "must not exist" on an existing key, next to a harmless put: nothing applies.
  absl::StatusOr<int64_t> result = store_->CommitAndWait({Put("/b", "1"), Put("/a", "2", 0)});
  EXPECT_TRUE(absl::IsAborted(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("/a was modified"));
  EXPECT_TRUE(absl::IsNotFound(store_->Get("/b").status()));
  EXPECT_EQ(store_->Revision(), base_ + 1);
  EXPECT_EQ(*store_->CommitAndWait({Put("/a", "2", base_ + 1)}), base_ + 2);
}

TEST_P(StoreContractTest, AKeyChangedTwiceInOneTransactionIsRefused) {
  absl::StatusOr<int64_t> result = store_->CommitAndWait({Put("/a", "1"), Put("/a", "2")});
  EXPECT_TRUE(absl::IsInvalidArgument(result.status())) << result.status();
  EXPECT_TRUE(absl::IsNotFound(store_->Get("/a").status()));
}

TEST_P(StoreContractTest, PreconditionsOnAKeyAndOnAPrefixGuardTheWholeTransaction) {
  int64_t read_at = *store_->CommitAndWait({Put("/svc/a", "1"), Put("/net/n", "1")});
  EXPECT_TRUE(CommitUnder(*store_, {Put("/x", "1")}, {{"/svc/", true, read_at}}).ok());
  ASSERT_TRUE(store_->CommitAndWait({Put("/svc/b", "1")}).ok());
  absl::StatusOr<int64_t> late = CommitUnder(*store_, {Put("/y", "1")}, {{"/svc/", true, read_at}});
  EXPECT_TRUE(absl::IsAborted(late.status())) << late.status();
  EXPECT_TRUE(absl::IsNotFound(store_->Get("/y").status()));
  int64_t net = store_->Get("/net/n")->mod_revision;
  EXPECT_TRUE(CommitUnder(*store_, {Put("/z", "1")}, {{"/net/n", false, net}}).ok());
  ASSERT_TRUE(store_->CommitAndWait({Delete("/net/n")}).ok());
  EXPECT_TRUE(absl::IsAborted(CommitUnder(*store_, {Put("/w", "1")}, {{"/net/n", false, net}}).status()));
  EXPECT_TRUE(CommitUnder(*store_, {Put("/w", "1")}, {{"/net/n", false, 0}}).ok());
  // After compaction the guard still works, from the keys themselves.
  ASSERT_TRUE(store_->Compact(store_->Revision()).ok());
  EXPECT_TRUE(absl::IsAborted(CommitUnder(*store_, {Put("/v", "1")}, {{"/svc/", true, read_at}}).status()));
  EXPECT_TRUE(CommitUnder(*store_, {Put("/v", "1")}, {{"/svc/", true, store_->Revision()}}).ok());
}

TEST_P(StoreContractTest, DeleteIsAnEventWithTheLastValueAndDeletingNothingMakesNoRevision) {
  ASSERT_TRUE(store_->CommitAndWait({Put("/a", "1")}).ok());
  ASSERT_TRUE(store_->CommitAndWait({Delete("/a")}).ok());
  absl::StatusOr<std::vector<Event>> events = store_->EventsAfter(base_);
  ASSERT_TRUE(events.ok()) << events.status();
  ASSERT_EQ(events->size(), 2u);
  EXPECT_TRUE((*events)[0].created);
  EXPECT_EQ((*events)[1].type, Event::Type::kDelete);
  EXPECT_EQ((*events)[1].kv.key, "/a");
  EXPECT_EQ((*events)[1].kv.value, "1");
  EXPECT_EQ((*events)[1].kv.mod_revision, base_ + 2);
  EXPECT_EQ(*store_->CommitAndWait({Delete("/a")}), base_ + 2);
}

TEST_P(StoreContractTest, ModificationsCarryThePreviousValue) {
  ASSERT_TRUE(store_->CommitAndWait({Put("/a", "old")}).ok());
  ASSERT_TRUE(store_->CommitAndWait({Put("/a", "new")}).ok());
  std::vector<Event> events = *store_->EventsAfter(base_ + 1);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].prev_value, "old");
  EXPECT_FALSE(events[0].created);
}

TEST_P(StoreContractTest, CompactionDropsHistoryAndSaysRelist) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store_->CommitAndWait({Put("/a", absl::StrCat(i))}).ok());
  ASSERT_TRUE(store_->Compact(base_ + 3).ok());  // 5 revisions written; history after the third stays
  EXPECT_EQ(store_->CompactedRevision(), base_ + 3);
  absl::StatusOr<std::vector<Event>> old = store_->EventsAfter(base_ + 2);
  EXPECT_TRUE(absl::IsOutOfRange(old.status())) << old.status();
  EXPECT_THAT(std::string(old.status().message()), HasSubstr("too old"));
  EXPECT_EQ(store_->EventsAfter(base_ + 3)->size(), 2u);
}

TEST_P(StoreContractTest, ConcurrentWritersAllLandAndAreListenedToInOrder) {
  absl::Mutex mutex;
  std::vector<int64_t> listened;
  store_->SetCommitListener([&](int64_t revision, const std::vector<Event>&) {
    absl::MutexLock lock(&mutex);
    listened.push_back(revision);
  });
  constexpr int kThreads = 8, kWrites = 25;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i)
        EXPECT_TRUE(store_->CommitAndWait({Put(absl::StrCat("/w", t, "-", i), "v")}).ok());
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(store_->Revision(), base_ + kThreads * kWrites);
  EXPECT_EQ(store_->Range("/w").kvs.size(), size_t{kThreads * kWrites});
  absl::MutexLock lock(&mutex);
  // Every commit was answered after its listener call: all of them are in, in revision order.
  ASSERT_EQ(listened.size(), size_t{kThreads * kWrites});
  for (size_t i = 0; i < listened.size(); ++i) EXPECT_EQ(listened[i], base_ + static_cast<int64_t>(i) + 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreContractTest, ::testing::Values(Backend::kSqlite, Backend::kEtcd),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kSqlite ? "Sqlite" : "Etcd";
                         });

}  // namespace
}  // namespace opctl::controller
