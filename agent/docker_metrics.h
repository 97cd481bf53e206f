// The agent's view of its dockerd, for Prometheus: Engine API calls by call and HTTP status, and
// their latency by call (CurlDockerClient's observer feeds it).
#pragma once

#include <string>

#include "absl/time/time.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace opctl::agent {

class DockerMetrics {
 public:
  explicit DockerMetrics(prometheus::Registry& registry);
  // `http_status` 0: dockerd was not reached.
  void Observe(const std::string& call, long http_status, absl::Duration took);

 private:
  prometheus::Family<prometheus::Counter>& calls_;
  prometheus::Family<prometheus::Histogram>& latency_;
};

}  // namespace opctl::agent
