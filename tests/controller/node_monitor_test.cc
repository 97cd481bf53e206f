#include "controller/node_monitor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "absl/synchronization/notification.h"
#include "common/object.h"
#include "controller/scheduler.h"
#include "controller/store/forwarding_store.h"
#include "controller/store/sqlite_store.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace opctl::controller {
namespace {

// A store whose commits can be held (a stalled or full disk): each waits until released.
class StallingStore : public ForwardingStore {
 public:
  using ForwardingStore::ForwardingStore;
  ~StallingStore() override {
    Release();
    for (std::thread& thread : threads_) thread.join();
  }
  void Stall() { stalled_ = true; }
  void Release() {
    stalled_ = false;
    if (!release_.HasBeenNotified()) release_.Notify();
  }

  using Store::Commit;
  void Commit(Transaction transaction, CommitCallback done) override {
    if (!stalled_) return inner_.Commit(std::move(transaction), std::move(done));
    // The caller must not be held: it gets its answer once the disk is back.
    threads_.emplace_back([this, transaction = std::move(transaction), done = std::move(done)]() mutable {
      release_.WaitForNotification();
      inner_.Commit(std::move(transaction), std::move(done));
    });
  }

 private:
  std::atomic<bool> stalled_{false};
  absl::Notification release_;
  std::vector<std::thread> threads_;  // commits waiting for the disk (one writer here: the monitor)
};

v1::Node Report(const std::string& name) {
  v1::Node node;
  node.mutable_metadata()->set_name(name);
  node.mutable_status()->mutable_capacity()->set_memory_bytes(1 << 30);
  return node;
}

class NodeMonitorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"a", "b", "c"}) {
      ASSERT_TRUE(monitor_.Heartbeat(Report(name)).ok());
      ASSERT_TRUE(testing::WaitFor([&] { return registry_.Find("Node", name).has_value(); }, absl::Seconds(10)));
    }
  }
  // Time passes with the checker running every 100 ms (as its thread does); `beating` keep heartbeating.
  void Pass(absl::Duration total, const std::vector<std::string>& beating) {
    for (absl::Duration passed; passed < total; passed += absl::Milliseconds(100)) {
      clock_.Advance(absl::Milliseconds(100));
      for (const std::string& name : beating) ASSERT_TRUE(monitor_.Heartbeat(Report(name)).ok());
      monitor_.CheckNodes();
    }
  }
  bool Ready(const std::string& name) { return NodeIsReady(registry_.Find("Node", name)->node()); }
  // After a disruption or a pause, silent "a" gets a whole fresh grace (3 s, from now) while b and c beat.
  void ExpectAFreshGraceForA(const std::string& after) {
    Pass(absl::Seconds(2), {"b", "c"});
    EXPECT_TRUE(Ready("a")) << "a fresh grace from the end of the " << after;
    Pass(absl::Seconds(1), {"b", "c"});
    EXPECT_FALSE(Ready("a"));
  }

  std::unique_ptr<SqliteStore> sqlite_ = *SqliteStore::Open(opctl::testing::MakeTempDir("opctl-monitor"));
  StallingStore store_{*sqlite_};
  ManualClock clock_;
  Registry registry_{store_, clock_};
  NodeMonitor monitor_{registry_, clock_};
};

TEST_F(NodeMonitorTest, OneSilentNodeOfThreeIsNotReady) {
  Pass(absl::Seconds(3), {"b", "c"});
  EXPECT_FALSE(Ready("a"));
  EXPECT_TRUE(Ready("b"));
  EXPECT_TRUE(Ready("c"));
}

// Most nodes silent at once is the controller's own trouble (a zone disruption): nobody is marked.
// Once most are back, the one still silent gets a whole fresh grace before it is.
TEST_F(NodeMonitorTest, MostNodesSilentAtOnceMarksNobodyAndThenGivesAFreshGrace) {
  Pass(absl::Seconds(5), {"c"});
  EXPECT_TRUE(Ready("a"));
  EXPECT_TRUE(Ready("b"));
  Pass(absl::Milliseconds(200), {"b", "c"});  // b is back: a alone is silent now
  ExpectAFreshGraceForA("disruption, not from a's last heartbeat");
}

// A checker that did not run for longer than half a grace (the process was stopped) does not take its
// own deafness for the nodes' silence.
// Here the heartbeats of b and c were taken meanwhile (the checker alone was starved), so a looks
// like the one silent node: without the pause rule it would be marked at once.
TEST_F(NodeMonitorTest, AControllerPausedForLongerThanTheGraceMarksNobody) {
  monitor_.CheckNodes();
  for (int i = 0; i < 100; ++i) {
    clock_.Advance(absl::Milliseconds(100));
    for (const char* name : {"b", "c"}) ASSERT_TRUE(monitor_.Heartbeat(Report(name)).ok());
  }
  monitor_.CheckNodes();
  EXPECT_TRUE(Ready("a"));
  ExpectAFreshGraceForA("pause");
}

// A heartbeat's answer, which renews the agent's lease, never waits on the disk.
TEST_F(NodeMonitorTest, HeartbeatsAreAnsweredWhileTheDiskStalls) {
  store_.Stall();
  v1::Node changed = Report("a");
  (*changed.mutable_metadata()->mutable_labels())["zone"] = "z1";  // must be written
  auto answered = std::async(std::launch::async, [&] { return monitor_.Heartbeat(changed); });
  ASSERT_EQ(answered.wait_for(std::chrono::seconds(5)), std::future_status::ready) << "waited on the stalled disk";
  EXPECT_TRUE(answered.get().ok());
  store_.Release();
  EXPECT_TRUE(testing::WaitFor(
      [&] { return registry_.Find("Node", "a")->node().metadata().labels().count("zone") > 0; }, absl::Seconds(10)));
}

TEST_F(NodeMonitorTest, AHeartbeatOutsideTheRulesIsRefused) {
  v1::Node bad = Report("a");
  (*bad.mutable_metadata()->mutable_labels())["bad key!"] = "v";
  EXPECT_TRUE(absl::IsInvalidArgument(monitor_.Heartbeat(bad)));
  bad = Report("a");
  bad.mutable_status()->mutable_capacity()->set_milli_cpus(-5);
  EXPECT_TRUE(absl::IsInvalidArgument(monitor_.Heartbeat(bad)));
  EXPECT_TRUE(absl::IsInvalidArgument(monitor_.Heartbeat(Report("no spaces allowed"))));
}

}  // namespace
}  // namespace opctl::controller
