// What the agent does, read when Prometheus scrapes: reconcile passes by result and their duration,
// the work queue, heals by what was found, Docker events seen, heartbeat round trips, the lease
// left, and backups by result with their duration and bytes. (docker_metrics.h has the Engine API
// calls.)
#pragma once

#include <vector>

#include "agent/agent.h"
#include "prometheus/collectable.h"
#include "prometheus/metric_family.h"

namespace opctl::agent {

class AgentMetrics : public prometheus::Collectable {
 public:
  // Once `agent` has started (its parts exist).
  explicit AgentMetrics(const Agent& agent) : agent_(agent) {}
  std::vector<prometheus::MetricFamily> Collect() const override;

 private:
  const Agent& agent_;
};

}  // namespace opctl::agent
