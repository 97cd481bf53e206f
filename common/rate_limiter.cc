#include "common/rate_limiter.h"

#include <algorithm>

namespace opctl {

absl::Duration ExponentialBackoff::When(const std::string& key) {
  absl::MutexLock lock(&mutex_);
  int failures = failures_[key]++;
  absl::Duration delay = base_;
  for (int i = 0; i < failures && delay < cap_; ++i) delay *= 2;
  return std::min(delay, cap_);
}

void ExponentialBackoff::Forget(const std::string& key) {
  absl::MutexLock lock(&mutex_);
  failures_.erase(key);
}

int ExponentialBackoff::Failures(const std::string& key) {
  absl::MutexLock lock(&mutex_);
  auto it = failures_.find(key);
  return it == failures_.end() ? 0 : it->second;
}

TokenBucket::TokenBucket(double per_second, int burst, Clock& clock)
    : per_second_(per_second), burst_(burst), clock_(clock), tokens_(burst), refilled_(clock.Now()) {}

absl::Duration TokenBucket::When(const std::string&) {
  absl::MutexLock lock(&mutex_);
  absl::Time now = clock_.Now();
  tokens_ = std::min<double>(burst_, tokens_ + absl::ToDoubleSeconds(now - refilled_) * per_second_);
  refilled_ = now;
  // The token is taken now, even when it is not there yet: the caller waits until it would be.
  tokens_ -= 1;
  return tokens_ >= 0 ? absl::ZeroDuration() : absl::Seconds(-tokens_ / per_second_);
}

absl::Duration MaxOfLimiters::When(const std::string& key) {
  absl::Duration longest = absl::ZeroDuration();
  for (auto& limiter : limiters_) longest = std::max(longest, limiter->When(key));
  return longest;
}

void MaxOfLimiters::Forget(const std::string& key) {
  for (auto& limiter : limiters_) limiter->Forget(key);
}

int MaxOfLimiters::Failures(const std::string& key) { return limiters_.empty() ? 0 : limiters_.front()->Failures(key); }

std::unique_ptr<RateLimiter> ControllerRateLimiter(Clock& clock) {
  std::vector<std::unique_ptr<RateLimiter>> limiters;
  limiters.push_back(std::make_unique<ExponentialBackoff>(absl::Milliseconds(5), absl::Seconds(2)));
  limiters.push_back(std::make_unique<TokenBucket>(50, 500, clock));
  return std::make_unique<MaxOfLimiters>(std::move(limiters));
}

}  // namespace opctl
