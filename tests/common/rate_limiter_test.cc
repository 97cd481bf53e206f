#include "common/rate_limiter.h"

#include <gtest/gtest.h>

#include "common/work_queue.h"

namespace opctl {
namespace {

TEST(ExponentialBackoff, DoublesPerKeyUpToTheCapAndStartsOverWhenForgotten) {
  ExponentialBackoff backoff(absl::Milliseconds(5), absl::Milliseconds(30));
  EXPECT_EQ(backoff.When("a"), absl::Milliseconds(5));
  EXPECT_EQ(backoff.When("a"), absl::Milliseconds(10));
  EXPECT_EQ(backoff.When("b"), absl::Milliseconds(5)) << "each key counts its own failures";
  EXPECT_EQ(backoff.When("a"), absl::Milliseconds(20));
  EXPECT_EQ(backoff.When("a"), absl::Milliseconds(30));
  EXPECT_EQ(backoff.When("a"), absl::Milliseconds(30));
  EXPECT_EQ(backoff.Failures("a"), 5);
  backoff.Forget("a");
  EXPECT_EQ(backoff.Failures("a"), 0);
  EXPECT_EQ(backoff.When("a"), absl::Milliseconds(5));
}

TEST(ExponentialBackoff, AThousandFailuresStayAtTheCap) {
  ExponentialBackoff backoff(absl::Milliseconds(5), absl::Seconds(2));
  absl::Duration last;
  for (int i = 0; i < 1000; ++i) last = backoff.When("a");
  EXPECT_EQ(last, absl::Seconds(2));
}

TEST(TokenBucket, ABurstPassesThenRetriesAreSpacedAtTheRate) {
  ManualClock clock;
  TokenBucket bucket(10, 3, clock);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(bucket.When("k"), absl::ZeroDuration()) << i;
  EXPECT_EQ(bucket.When("k"), absl::Milliseconds(100));
  EXPECT_EQ(bucket.When("other"), absl::Milliseconds(200)) << "the bucket is shared by every key";
  clock.Advance(absl::Seconds(1));  // ten tokens' worth, less the two owed, capped at the burst
  EXPECT_EQ(bucket.When("k"), absl::ZeroDuration());
}

TEST(MaxOfLimiters, TakesTheLongestDelay) {
  ManualClock clock;
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ExponentialBackoff>(absl::Milliseconds(5), absl::Seconds(1)));
  limiters.push_back(std::make_unique<TokenBucket>(1, 1, clock));
  MaxOfLimiters limiter(std::move(limiters));
  EXPECT_EQ(limiter.When("a"), absl::Milliseconds(5));  // a token was there; the backoff decides
  EXPECT_EQ(limiter.When("a"), absl::Seconds(1));       // no token: the bucket decides
  EXPECT_EQ(limiter.Failures("a"), 2);
  limiter.Forget("a");
  EXPECT_EQ(limiter.Failures("a"), 0);
}

TEST(WorkQueue, ARateLimitedKeyWaitsItsBackoffAndAForgottenOneStartsOver) {
  ManualClock clock;
  WorkQueue queue(clock, std::make_unique<ExponentialBackoff>(absl::Seconds(1), absl::Seconds(8)));
  queue.AddRateLimited("k");
  queue.AddRateLimited("k");  // the earlier, shorter delay wins
  EXPECT_EQ(queue.Length(), 0u);
  clock.Advance(absl::Seconds(1));
  EXPECT_EQ(*queue.Get(), "k");
  queue.Done("k");
  EXPECT_EQ(queue.Failures("k"), 2);
  queue.Forget("k");
  EXPECT_EQ(queue.Failures("k"), 0);
}

}  // namespace
}  // namespace opctl
