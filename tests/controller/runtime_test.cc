// The controller runtime: a reconcile loop's retries, requeues and restarts, and a manager's shared
// informers and leader-only controllers, on the real store and watch hub.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <future>

#include "controller/runtime/manager.h"
#include "controller/store/sqlite_store.h"
#include "tests/controller/test_objects.h"
#include "tests/support/process.h"
#include "tests/support/wait.h"

namespace opctl::controller {
namespace {

using opctl::testing::WaitFor;
using ::testing::Contains;
using ::testing::HasSubstr;

// Records the keys it is given; fails a key while told to, asks for a requeue when told to.
class RecordingReconciler : public Reconciler {
 public:
  absl::StatusOr<ReconcileResult> Reconcile(const std::string& key) override {
    absl::MutexLock lock(&mutex_);
    seen_.push_back(key);
    if (failures_left_[key] > 0) {
      --failures_left_[key];
      return absl::UnavailableError("the store is away");
    }
    return ReconcileResult{requeue_after_[key]};
  }
  void FailNext(const std::string& key, int times) {
    absl::MutexLock lock(&mutex_);
    failures_left_[key] = times;
  }
  void RequeueAfter(const std::string& key, absl::Duration after) {
    absl::MutexLock lock(&mutex_);
    requeue_after_[key] = after;
  }
  int Count(const std::string& key) {
    absl::MutexLock lock(&mutex_);
    return static_cast<int>(std::count(seen_.begin(), seen_.end(), key));
  }

 private:
  absl::Mutex mutex_;
  std::vector<std::string> seen_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, int> failures_left_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, absl::Duration> requeue_after_ ABSL_GUARDED_BY(mutex_);
};

ReconcileLoopOptions Options(std::vector<std::string> resync = {}) {
  ReconcileLoopOptions options;
  options.name = "test";
  options.resync = [resync] { return resync; };
  return options;
}

TEST(ReconcileLoop, AFailedKeyIsRetriedWithBackoffAndLoggedFirstAndEveryTenth) {
  RecordingReconciler reconciler;
  RecordingLogger logger;
  ReconcileLoopOptions options = Options();
  options.rate_limiter = [] {
    return std::make_unique<ExponentialBackoff>(absl::Milliseconds(1), absl::Milliseconds(4));
  };
  ReconcileLoop loop(reconciler, Clock::Real(), logger, options);
  reconciler.FailNext("a", 12);
  loop.Start();
  loop.Enqueue("a");
  ASSERT_TRUE(WaitFor([&] { return reconciler.Count("a") == 13; }, absl::Seconds(10))) << reconciler.Count("a");
  std::vector<std::string> lines = logger.lines();
  ASSERT_EQ(lines.size(), 2u) << "the first failure and the tenth";
  EXPECT_EQ(lines[0], "test: a: UNAVAILABLE: the store is away");
  EXPECT_EQ(lines[1], "test: a: UNAVAILABLE: the store is away (attempt 10)");
}

TEST(ReconcileLoop, ARequeueAfterComesBackOnceItsTimeHasPassed) {
  ManualClock clock;
  RecordingReconciler reconciler;
  ReconcileLoop loop(reconciler, clock, Logger::Stderr(), Options({"tick"}));
  reconciler.RequeueAfter("tick", absl::Seconds(5));
  loop.Start();
  ASSERT_TRUE(WaitFor([&] { return reconciler.Count("tick") == 1; }, absl::Seconds(5)));
  clock.Advance(absl::Seconds(4));
  EXPECT_FALSE(WaitFor([&] { return reconciler.Count("tick") > 1; }, absl::Milliseconds(200)));
  clock.Advance(absl::Seconds(1));
  EXPECT_TRUE(WaitFor([&] { return reconciler.Count("tick") == 2; }, absl::Seconds(5)));
}

TEST(ReconcileLoop, EachStartResyncsAndKeysWhileStoppedAreDropped) {
  RecordingReconciler reconciler;
  ReconcileLoop loop(reconciler, Clock::Real(), Logger::Stderr(), Options({"all"}));
  loop.Enqueue("early");  // not running: the first start's resync covers it
  loop.Start();
  ASSERT_TRUE(WaitFor([&] { return reconciler.Count("all") == 1; }, absl::Seconds(5)));
  loop.Stop();
  EXPECT_FALSE(loop.running());
  loop.Enqueue("while-stopped");
  loop.Start();
  ASSERT_TRUE(WaitFor([&] { return reconciler.Count("all") == 2; }, absl::Seconds(5)));
  loop.Enqueue("later");
  ASSERT_TRUE(WaitFor([&] { return reconciler.Count("later") == 1; }, absl::Seconds(5)));
  EXPECT_EQ(reconciler.Count("early"), 0);
  EXPECT_EQ(reconciler.Count("while-stopped"), 0);
}

class ManagerTest : public ::testing::Test {
 protected:
  void Put(const v1::Object& object) {
    std::promise<absl::Status> promise;
    registry_.Put(object, [&](absl::StatusOr<v1::Object> result) { promise.set_value(result.status()); });
    ASSERT_TRUE(promise.get_future().get().ok());
  }

  std::unique_ptr<SqliteStore> store_ = *SqliteStore::Open(opctl::testing::MakeTempDir("opctl-runtime"));
  WatchHub hub_{*store_};
  Registry registry_{*store_, Clock::Real()};
  Manager manager_{registry_, hub_, Clock::Real(), Logger::Stderr()};
};

TEST_F(ManagerTest, OneInformerPerKindHandsTheListThenEveryChangeToEachHandler) {
  Put(testing::ServiceObject("before", 1));
  Informer& services = manager_.InformerFor("Service");
  EXPECT_EQ(&services, &manager_.InformerFor("Service")) << "shared";
  absl::Mutex mutex;
  std::vector<std::string> first, second;
  services.AddHandler([&](const ObjectChange& change) {
    absl::MutexLock lock(&mutex);
    first.push_back((change.created ? "+" : change.deleted ? "-" : "~") + change.object.service().metadata().name());
  });
  services.AddHandler([&](const ObjectChange& change) {
    absl::MutexLock lock(&mutex);
    second.push_back(change.object.service().metadata().name());
  });
  EXPECT_FALSE(services.HasSynced());
  ASSERT_TRUE(manager_.Start().ok());
  EXPECT_TRUE(services.HasSynced());
  Put(testing::NetworkObject("net", "10.1.0.0/24"));  // another kind: not this informer's
  Put(testing::ServiceObject("after", 1));
  ASSERT_TRUE(WaitFor(
      [&] {
        absl::MutexLock lock(&mutex);
        return first.size() == 2 && second.size() == 2;
      },
      absl::Seconds(5)));
  absl::MutexLock lock(&mutex);
  EXPECT_EQ(first, (std::vector<std::string>{"+before", "+after"}));
  EXPECT_EQ(second, (std::vector<std::string>{"before", "after"}));
  EXPECT_TRUE(services.Get("after").has_value());
  EXPECT_EQ(services.List().size(), 2u);
}

TEST_F(ManagerTest, LeaderOnlyControllersRunOnlyWhileLeading) {
  RecordingReconciler always, leader;
  manager_.Add(always, {.name = "always", .resync = [] { return std::vector<std::string>{"a"}; }});
  ReconcileLoop& led = manager_.Add(
      leader, {.name = "leader", .leader_only = true, .resync = [] { return std::vector<std::string>{"l"}; }});
  ASSERT_TRUE(manager_.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return always.Count("a") == 1; }, absl::Seconds(5)));
  EXPECT_FALSE(led.running());
  manager_.SetLeading(true);
  ASSERT_TRUE(WaitFor([&] { return leader.Count("l") == 1; }, absl::Seconds(5)));
  manager_.SetLeading(false);
  EXPECT_FALSE(led.running());
  led.Enqueue("x");
  manager_.SetLeading(true);  // a new term: a full resync, nothing of the last
  ASSERT_TRUE(WaitFor([&] { return leader.Count("l") == 2; }, absl::Seconds(5)));
  EXPECT_EQ(leader.Count("x"), 0);
}

}  // namespace
}  // namespace opctl::controller
