#include "controller/runtime_metrics.h"

#include "common/metrics_endpoint.h"

namespace opctl::controller {

std::vector<prometheus::MetricFamily> RuntimeMetrics::Collect() const {
  std::vector<std::pair<std::string, const OutcomeStats*>> passes;
  std::vector<std::pair<std::string, const LatencyHistogram*>> durations;
  std::vector<std::pair<std::string, double>> queues;
  for (const ReconcileLoop* loop : manager_.Loops()) {
    passes.emplace_back(loop->name(), &loop->stats());
    durations.emplace_back(loop->name(), &loop->stats().duration);
    queues.emplace_back(loop->name(), static_cast<double>(loop->QueueLength()));
  }
  auto count = [](uint64_t value) { return static_cast<double>(value); };
  return {
      OutcomeFamily("opctl_controller_reconcile_total",
                    "reconcile passes of each controller loop, by result (conflict: someone wrote first; retried)",
                    "controller", passes),
      HistogramFamily("opctl_controller_reconcile_duration_seconds", "how long each controller loop's passes take",
                      "controller", durations),
      GaugeFamily("opctl_controller_queue_depth", "keys waiting for each controller loop", "controller", queues),
      SingleGauge("opctl_controller_leader",
                  "1 while this controller leads (runs the controllers that write); always 1 alone on SQLite",
                  manager_.leading() ? 1 : 0),
      SingleGauge("opctl_watch_streams", "Watch streams open", static_cast<double>(watches_.open.load())),
      SingleCounter("opctl_watch_events_sent_total", "events (bookmarks too) written to Watch streams",
                    count(watches_.events_sent.load())),
      SingleGauge("opctl_watch_backlog_events", "events queued for Watch streams and not yet written",
                  static_cast<double>(watches_.backlog_events.load())),
      SingleCounter("opctl_watch_cut_off_total", "watchers ended for falling behind (they list again)",
                    count(watches_.cut_off.load())),
      OutcomeFamily("opctl_store_commits_total", "store transactions, by result (conflict: a condition failed)", "",
                    {{"", &store_.commits()}}),
      SingleCounter("opctl_store_syncs_total",
                    "SQLite's writes to disk, each making a group of commits durable (commits_total over syncs_total "
                    "is the batch size); 0 on etcd, which syncs on its side",
                    count(store_.Syncs())),
      HistogramFamily("opctl_store_commit_duration_seconds",
                      "from a store commit to its answer, the disk sync (SQLite) or etcd's round trip included", "",
                      {{"", &store_.commits().duration}}),
      SingleCounter("opctl_events_recorded_total", "occurrences of Events reported by the controller and the agents",
                    count(events_.recorded())),
      SingleCounter("opctl_events_written_total",
                    "Event writes to the store (each folds every occurrence since the last)", count(events_.written())),
      SingleCounter("opctl_events_dropped_total", "occurrences dropped because too many distinct Events waited at once",
                    static_cast<double>(events_.dropped())),
  };
}

}  // namespace opctl::controller
