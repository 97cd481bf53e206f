#include "common/work_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace opctl {
namespace {

TEST(WorkQueue, FoldsDuplicates) {
  WorkQueue queue;
  queue.Add("a");
  queue.Add("b");
  queue.Add("a");
  EXPECT_EQ(queue.Length(), 2u);
  EXPECT_EQ(*queue.Get(), "a");
  EXPECT_EQ(*queue.Get(), "b");
}

TEST(WorkQueue, KeyInProcessIsNotHandedOutTwice) {
  WorkQueue queue;
  queue.Add("a");
  std::string first = *queue.Get();
  queue.Add("a");  // re-added while processing: waits for Done
  EXPECT_EQ(queue.Length(), 0u);
  queue.Done(first);
  EXPECT_EQ(queue.Length(), 1u);  // and comes back once
  EXPECT_EQ(*queue.Get(), "a");
}

TEST(WorkQueue, DelayedKeysBecomeReadyWhenDue) {
  ManualClock clock;
  WorkQueue queue(clock);
  queue.AddAfter("retry", absl::Seconds(10));
  EXPECT_EQ(queue.Length(), 0u);
  std::thread advance([&] { clock.Advance(absl::Seconds(11)); });
  EXPECT_EQ(*queue.Get(), "retry");
  advance.join();
}

TEST(WorkQueue, ShutDownWakesWorkers) {
  WorkQueue queue;
  std::thread worker([&] { EXPECT_FALSE(queue.Get().has_value()); });
  queue.ShutDown();
  worker.join();
}

}  // namespace
}  // namespace opctl
