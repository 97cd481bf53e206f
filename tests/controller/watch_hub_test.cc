#include "controller/watch_hub.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "common/object.h"
#include "controller/store/sqlite_store.h"
#include "tests/controller/test_objects.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace opctl::controller {
namespace {

// Collects what a subscriber receives.
struct Collector {
  absl::Mutex mutex;
  std::vector<int64_t> revisions ABSL_GUARDED_BY(mutex);
  int bookmarks ABSL_GUARDED_BY(mutex) = 0;

  WatchHub::Sink Sink() {
    return [this](const std::vector<ChangePtr>& changes, int64_t revision) {
      absl::MutexLock lock(&mutex);
      if (changes.empty()) ++bookmarks;
      for (const ChangePtr& change : changes) revisions.push_back(change->revision);
      return true;
    };
  }
  std::vector<int64_t> Revisions() {
    absl::MutexLock lock(&mutex);
    return revisions;
  }
};

class WatchHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ = *SqliteStore::Open(opctl::testing::MakeTempDir("opctl-hub"));
    hub_ = std::make_unique<WatchHub>(*store_, absl::Milliseconds(50));
  }
  void Write(int i) {
    v1::Object object = testing::NetworkObject(absl::StrCat("n", i), "10.0.0.0/24");
    ASSERT_TRUE(store_->CommitAndWait({{StoreKey(object), EncodeObject(object), std::nullopt}}).ok());
  }
  // What the sinks use, declared before the hub: the hub (and its bookmark thread, which may call a
  // sink at any time) goes first. As a test's locals they were gone while the hub still called them.
  Collector collector_;
  absl::Notification release_;
  std::unique_ptr<SqliteStore> store_;
  std::unique_ptr<WatchHub> hub_;
};

TEST_F(WatchHubTest, ResumingFromARevisionMissesNothingAndRepeatsNothing) {
  for (int i = 1; i <= 5; ++i) Write(i);
  // Writers keep going while the subscriber replays history and joins the live stream.
  std::thread writer([&] {
    for (int i = 6; i <= 200; ++i) Write(i);
  });
  ASSERT_TRUE(hub_->Subscribe(3, collector_.Sink()).ok());  // revisions 2..201 are written; after 3: 198
  writer.join();
  ASSERT_TRUE(opctl::testing::WaitFor([&] { return collector_.Revisions().size() >= 198; }, absl::Seconds(10)));
  std::vector<int64_t> revisions = collector_.Revisions();
  ASSERT_EQ(revisions.size(), 198u);
  for (size_t i = 0; i < revisions.size(); ++i) EXPECT_EQ(revisions[i], static_cast<int64_t>(i + 4));
}

TEST_F(WatchHubTest, CompactedRevisionIsRefused) {
  for (int i = 1; i <= 5; ++i) Write(i);
  ASSERT_TRUE(store_->Compact(5).ok());
  absl::StatusOr<uint64_t> id = hub_->Subscribe(3, collector_.Sink());
  EXPECT_TRUE(absl::IsOutOfRange(id.status()));
}

TEST_F(WatchHubTest, IdleSubscribersGetBookmarks) {
  ASSERT_TRUE(hub_->Subscribe(0, collector_.Sink()).ok());
  EXPECT_TRUE(opctl::testing::WaitFor(
      [&] {
        absl::MutexLock lock(&collector_.mutex);
        return collector_.bookmarks >= 2;
      },
      absl::Seconds(5)));
}

TEST_F(WatchHubTest, ADecliningSinkIsDropped) {
  std::atomic<int> calls = 0;
  ASSERT_TRUE(hub_->Subscribe(0,
                              [&](const std::vector<ChangePtr>&, int64_t) {
                                ++calls;
                                return false;
                              })
                  .ok());
  Write(1);
  Write(2);
  ASSERT_TRUE(hub_->WaitDispatched(store_->Revision()));
  EXPECT_EQ(calls, 1);
}

// The store's writer only queues: a sink that blocks holds up other watchers' delivery, never a commit.
TEST_F(WatchHubTest, ASlowSubscriberNeverDelaysACommit) {
  ASSERT_TRUE(hub_->Subscribe(0,
                              [&](const std::vector<ChangePtr>&, int64_t) {
                                release_.WaitForNotification();
                                return true;
                              })
                  .ok());
  for (int i = 1; i <= 20; ++i) Write(i);  // each waits for its commit: none waits for the sink
  release_.Notify();
  EXPECT_TRUE(hub_->WaitDispatched(store_->Revision()));
}

}  // namespace
}  // namespace opctl::controller
