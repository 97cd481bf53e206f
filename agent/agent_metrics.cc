#include "agent/agent_metrics.h"

#include "common/metrics_endpoint.h"

namespace opctl::agent {

std::vector<prometheus::MetricFamily> AgentMetrics::Collect() const {
  const HealCounts& heals = agent_.heals();
  auto count = [](uint64_t value) { return static_cast<double>(value); };
  return {
      OutcomeFamily("opctl_agent_reconcile_total",
                    "reconcile passes of the agent's workers, by result (failed passes are retried with backoff)", "",
                    {{"", &agent_.work()}}),
      HistogramFamily("opctl_agent_reconcile_duration_seconds", "how long the agent's reconcile passes take", "",
                      {{"", &agent_.work().duration}}),
      SingleGauge("opctl_agent_queue_depth", "keys waiting for the agent's workers",
                  static_cast<double>(agent_.QueueLength())),
      CounterFamily("opctl_agent_heals_total",
                    "containers the agent healed, by what it found: removed (made again), exited (started again), "
                    "unhealthy (restarted)",
                    {{{{"found", "removed"}}, count(heals.removed.load())},
                     {{{"found", "exited"}}, count(heals.exited.load())},
                     {{{"found", "unhealthy"}}, count(heals.unhealthy.load())}}),
      SingleCounter("opctl_agent_docker_events_total", "Docker events of this node's containers seen",
                    count(agent_.docker_events_seen())),
      HistogramFamily("opctl_agent_heartbeat_duration_seconds", "round trips of the heartbeats the controller answered",
                      "", {{"", &agent_.heartbeats()}}),
      SingleGauge("opctl_agent_lease_remaining_seconds",
                  "until this node's lease lapses and its movable containers stop (negative: lapsed)",
                  absl::ToDoubleSeconds(agent_.LeaseRemaining())),
      OutcomeFamily("opctl_agent_backups_total", "scheduled volume backups run, by result", "",
                    {{"", &agent_.backups()}}),
      HistogramFamily("opctl_agent_backup_duration_seconds", "how long scheduled volume backups take", "",
                      {{"", &agent_.backups().duration}}),
      SingleCounter("opctl_agent_backup_bytes_total", "bytes of the archives scheduled backups wrote",
                    count(agent_.bytes_archived())),
  };
}

}  // namespace opctl::agent
