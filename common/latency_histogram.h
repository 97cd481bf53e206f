// Counters and a latency histogram that hot paths update without a lock and without prometheus-cpp,
// read when Prometheus scrapes (common/metrics_endpoint.h turns them into families). The libraries
// keep them; only the binaries link the endpoint.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"

namespace opctl {

class LatencyHistogram {
 public:
  // Prometheus' default buckets, in seconds.
  static constexpr std::array<double, 11> kBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

  void Observe(absl::Duration took) {
    double seconds = absl::ToDoubleSeconds(took);
    size_t bucket = 0;
    while (bucket < kBounds.size() && seconds > kBounds[bucket]) ++bucket;
    counts_[bucket].fetch_add(1, std::memory_order_relaxed);
    sum_nanos_.fetch_add(absl::ToInt64Nanoseconds(took), std::memory_order_relaxed);
  }

  struct Snapshot {
    std::vector<uint64_t> counts;  // per bucket of kBounds, then above the last; not cumulative
    double sum_seconds = 0;
  };
  Snapshot Read() const {
    Snapshot snapshot;
    for (const std::atomic<uint64_t>& count : counts_) snapshot.counts.push_back(count.load(std::memory_order_relaxed));
    snapshot.sum_seconds = static_cast<double>(sum_nanos_.load(std::memory_order_relaxed)) / 1e9;
    return snapshot;
  }

 private:
  std::array<std::atomic<uint64_t>, kBounds.size() + 1> counts_{};
  std::atomic<int64_t> sum_nanos_{0};
};

// How many of some work (reconcile passes, store commits) ended each way, and how long each took.
struct OutcomeStats {
  std::atomic<uint64_t> succeeded{0};
  std::atomic<uint64_t> conflicts{0};  // ABORTED: someone wrote first; retried
  std::atomic<uint64_t> failed{0};
  LatencyHistogram duration;

  // One that ended with `status` after `took`.
  void Record(const absl::Status& status, absl::Duration took) {
    duration.Observe(took);
    (status.ok() ? succeeded : absl::IsAborted(status) ? conflicts : failed).fetch_add(1, std::memory_order_relaxed);
  }
};

}  // namespace opctl
