#include "controller/store/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <thread>

#include "absl/strings/str_cat.h"
#include "tests/support/process.h"

namespace opctl::controller {
namespace {

using ::testing::HasSubstr;

Mutation Put(const std::string& key, const std::string& value, std::optional<int64_t> expected = std::nullopt) {
  return Mutation{key, value, expected};
}

Mutation Delete(const std::string& key) { return Mutation{key, std::nullopt, std::nullopt}; }

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStore> Open(SqliteStoreOptions options = {}) {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(directory_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::string directory_ = opctl::testing::MakeTempDir("opctl-store");
};

TEST_F(SqliteStoreTest, EveryCommitIsOneRevision) {
  auto store = Open();
  EXPECT_EQ(store->Revision(), 1);  // as in etcd
  EXPECT_EQ(*store->CommitAndWait({Put("/a", "1"), Put("/b", "1")}), 2);
  EXPECT_EQ(*store->CommitAndWait({Put("/a", "2")}), 3);
  absl::StatusOr<KeyValue> a = store->Get("/a");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->value, "2");
  EXPECT_EQ(a->create_revision, 2);
  EXPECT_EQ(a->mod_revision, 3);
  EXPECT_EQ(a->version, 2);
  EXPECT_EQ(store->Get("/b")->mod_revision, 2);
  EXPECT_TRUE(absl::IsNotFound(store->Get("/c").status()));
}

TEST_F(SqliteStoreTest, RangeReadsAPrefixAtOneRevision) {
  auto store = Open();
  ASSERT_TRUE(store->CommitAndWait({Put("/x/1", "a"), Put("/x/2", "b"), Put("/y/1", "c")}).ok());
  RangeResult range = store->Range("/x/");
  ASSERT_EQ(range.kvs.size(), 2u);
  EXPECT_EQ(range.kvs[0].key, "/x/1");
  EXPECT_EQ(range.revision, 2);
}

TEST_F(SqliteStoreTest, StaleExpectationAbortsTheWholeTransaction) {
  auto store = Open();
  ASSERT_TRUE(store->CommitAndWait({Put("/a", "1")}).ok());
  // "must not exist" on an existing key, next to a harmless put: nothing applies.
  absl::StatusOr<int64_t> result = store->CommitAndWait({Put("/b", "1"), Put("/a", "2", 0)});
  EXPECT_TRUE(absl::IsAborted(result.status())) << result.status();
  EXPECT_THAT(std::string(result.status().message()), HasSubstr("/a was modified"));
  EXPECT_TRUE(absl::IsNotFound(store->Get("/b").status()));
  EXPECT_EQ(store->Revision(), 2);
  // The right version goes through.
  EXPECT_EQ(*store->CommitAndWait({Put("/a", "2", 2)}), 3);
}

absl::StatusOr<int64_t> CommitUnder(Store& store, std::vector<Mutation> mutations,
                                    std::vector<Precondition> conditions) {
  std::promise<absl::StatusOr<int64_t>> answer;
  store.Commit(Transaction{std::move(mutations), std::move(conditions)},
               [&](absl::StatusOr<int64_t> revision) { answer.set_value(revision); });
  return answer.get_future().get();
}

TEST_F(SqliteStoreTest, PreconditionsOnAKeyAndOnAPrefixGuardTheWholeTransaction) {
  auto store = Open();
  int64_t read_at = *store->CommitAndWait({Put("/svc/a", "1"), Put("/net/n", "1")});
  // Nothing under /svc/ changed since: it commits.
  EXPECT_TRUE(CommitUnder(*store, {Put("/x", "1")}, {{"/svc/", true, read_at}}).ok());
  // A key created under the prefix after the revision fails the guard, and nothing is applied.
  ASSERT_TRUE(store->CommitAndWait({Put("/svc/b", "1")}).ok());
  absl::StatusOr<int64_t> late = CommitUnder(*store, {Put("/y", "1")}, {{"/svc/", true, read_at}});
  EXPECT_TRUE(absl::IsAborted(late.status())) << late.status();
  EXPECT_TRUE(absl::IsNotFound(store->Get("/y").status()));
  // A key read at its revision, unchanged, holds; once changed, or gone, it fails.
  int64_t net = store->Get("/net/n")->mod_revision;
  EXPECT_TRUE(CommitUnder(*store, {Put("/z", "1")}, {{"/net/n", false, net}}).ok());
  ASSERT_TRUE(store->CommitAndWait({Delete("/net/n")}).ok());
  EXPECT_TRUE(absl::IsAborted(CommitUnder(*store, {Put("/w", "1")}, {{"/net/n", false, net}}).status()));
  // "Absent" is revision 0.
  EXPECT_TRUE(CommitUnder(*store, {Put("/w", "1")}, {{"/net/n", false, 0}}).ok());
  // After compaction the guard still works, from the keys themselves.
  ASSERT_TRUE(store->Compact(store->Revision()).ok());
  EXPECT_TRUE(absl::IsAborted(CommitUnder(*store, {Put("/v", "1")}, {{"/svc/", true, read_at}}).status()));
  EXPECT_TRUE(CommitUnder(*store, {Put("/v", "1")}, {{"/svc/", true, store->Revision()}}).ok());
}

TEST_F(SqliteStoreTest, DeleteIsAnEventWithTheLastValue) {
  auto store = Open();
  ASSERT_TRUE(store->CommitAndWait({Put("/a", "1")}).ok());
  ASSERT_TRUE(store->CommitAndWait({Delete("/a")}).ok());
  absl::StatusOr<std::vector<Event>> events = store->EventsAfter(0);
  ASSERT_TRUE(events.ok());
  ASSERT_EQ(events->size(), 2u);
  EXPECT_TRUE((*events)[0].created);
  EXPECT_EQ((*events)[1].type, Event::Type::kDelete);
  EXPECT_EQ((*events)[1].kv.value, "1");
  EXPECT_EQ((*events)[1].kv.mod_revision, 3);
  // Deleting what is not there changes nothing and makes no revision.
  EXPECT_EQ(*store->CommitAndWait({Delete("/a")}), 3);
}

TEST_F(SqliteStoreTest, ModificationsCarryThePreviousValue) {
  auto store = Open();
  ASSERT_TRUE(store->CommitAndWait({Put("/a", "old")}).ok());
  ASSERT_TRUE(store->CommitAndWait({Put("/a", "new")}).ok());
  std::vector<Event> events = *store->EventsAfter(2);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].prev_value, "old");
  EXPECT_FALSE(events[0].created);
}

TEST_F(SqliteStoreTest, StateAndHistorySurviveReopening) {
  {
    auto store = Open();
    for (int i = 0; i < 10; ++i) ASSERT_TRUE(store->CommitAndWait({Put(absl::StrCat("/k", i), "v")}).ok());
  }
  auto store = Open();
  EXPECT_EQ(store->Revision(), 11);
  EXPECT_EQ(store->Range("/k").kvs.size(), 10u);
  EXPECT_EQ(store->EventsAfter(5)->size(), 6u);
  EXPECT_EQ(*store->CommitAndWait({Put("/k0", "w")}), 12);
}

TEST_F(SqliteStoreTest, CompactionDropsHistoryAndSaysRelist) {
  auto store = Open();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->CommitAndWait({Put("/a", absl::StrCat(i))}).ok());
  ASSERT_TRUE(store->Compact(4).ok());  // revisions 2..6 written; history after 4 stays
  EXPECT_EQ(store->CompactedRevision(), 4);
  absl::StatusOr<std::vector<Event>> old = store->EventsAfter(3);
  EXPECT_TRUE(absl::IsOutOfRange(old.status()));
  EXPECT_THAT(std::string(old.status().message()), HasSubstr("too old"));
  EXPECT_EQ(store->EventsAfter(4)->size(), 2u);
  store.reset();
  store = Open();
  EXPECT_EQ(store->CompactedRevision(), 4);
  EXPECT_EQ(store->EventsAfter(4)->size(), 2u);
}

TEST_F(SqliteStoreTest, BackgroundCompactionKeepsTheConfiguredHistory) {
  SqliteStoreOptions options;
  options.history_revisions = 20;
  auto store = Open(options);
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(store->CommitAndWait({Put("/a", absl::StrCat(i))}).ok());
  EXPECT_GE(store->CompactedRevision(), 101 - 20 - 2);
  EXPECT_LE(store->CompactedRevision(), 81);
  EXPECT_TRUE(store->EventsAfter(81).ok());
}

TEST_F(SqliteStoreTest, ConcurrentWritersAllLandInOrder) {
  auto store = Open();
  std::vector<int64_t> listened;
  store->SetCommitListener([&](int64_t revision, const std::vector<Event>&) { listened.push_back(revision); });
  constexpr int kThreads = 8, kWrites = 50;
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kWrites; ++i)
        ASSERT_TRUE(store->CommitAndWait({Put(absl::StrCat("/w", t, "-", i), "v")}).ok());
    });
  }
  for (std::thread& writer : writers) writer.join();
  EXPECT_EQ(store->Revision(), 1 + kThreads * kWrites);
  ASSERT_EQ(listened.size(), size_t{kThreads * kWrites});
  for (size_t i = 0; i < listened.size(); ++i) EXPECT_EQ(listened[i], static_cast<int64_t>(i + 2));
}

TEST_F(SqliteStoreTest, ACorruptedFileIsRefusedWithItsName) {
  { std::ofstream(directory_ + "/opctl.db") << "this is not a database, just text long enough to have a header....."; }
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(directory_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("opctl.db"));
}

}  // namespace
}  // namespace opctl::controller
