// What only the SQLite store has: its file across reopening, its background compaction and a corrupted
// file. The contract both stores keep is store_contract_test.cc.
#include "controller/store/sqlite_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "absl/strings/str_cat.h"
#include "tests/support/process.h"

namespace opctl::controller {
namespace {

using ::testing::HasSubstr;

Mutation Put(const std::string& key, const std::string& value, std::optional<int64_t> expected = std::nullopt) {
  return Mutation{key, value, expected};
}

class SqliteStoreTest : public ::testing::Test {
 protected:
  std::unique_ptr<SqliteStore> Open(SqliteStoreOptions options = {}) {
    absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(directory_, options);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  std::string directory_ = opctl::testing::MakeTempDir("opctl-store");
};

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

TEST_F(SqliteStoreTest, CompactionSurvivesReopening) {
  auto store = Open();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(store->CommitAndWait({Put("/a", absl::StrCat(i))}).ok());
  ASSERT_TRUE(store->Compact(4).ok());  // revisions 2..6 written; history after 4 stays
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

TEST_F(SqliteStoreTest, ACorruptedFileIsRefusedWithItsName) {
  { std::ofstream(directory_ + "/opctl.db") << "this is not a database, just text long enough to have a header....."; }
  absl::StatusOr<std::unique_ptr<SqliteStore>> store = SqliteStore::Open(directory_);
  ASSERT_FALSE(store.ok());
  EXPECT_THAT(std::string(store.status().message()), HasSubstr("opctl.db"));
}

}  // namespace
}  // namespace opctl::controller
