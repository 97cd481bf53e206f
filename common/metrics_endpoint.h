// The Prometheus endpoint of a controller or an agent: an HTTP server on its own address (never the
// gRPC port) that serves GET /metrics in Prometheus' text format, from one registry of counters and
// histograms the process updates as it works and from collectors that read its state when scraped.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/latency_histogram.h"
#include "prometheus/collectable.h"
#include "prometheus/registry.h"

namespace prometheus {
class Exposer;
}

namespace opctl {

class MetricsEndpoint {
 public:
  // Listens on `addresses`: HOST:PORT, or several as HOST:PORT,HOST:PORT (port 0 picks a free one),
  // say loopback for this host and a bridge's address for the monitoring stack's containers.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const std::string& addresses);
  // For a --metrics-listen flag: none (null) when `address` is empty, or when it is the flag's
  // default and taken (another controller or agent on this host: said on stderr, as `program`);
  // otherwise Start's answer.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartForFlag(const std::string& address,
                                                                       const std::string& default_address,
                                                                       const std::string& program);
  ~MetricsEndpoint();

  prometheus::Registry& registry() { return *registry_; }
  // Served beside the registry; held only weakly (a collector that goes stops being scraped).
  void Add(const std::shared_ptr<prometheus::Collectable>& collector);
  // The first HOST:PORT it listens on, with the port it got; all of them, comma-separated.
  const std::string& address() const { return address_; }
  const std::string& addresses() const { return addresses_; }

 private:
  MetricsEndpoint() = default;
  std::shared_ptr<prometheus::Registry> registry_ = std::make_shared<prometheus::Registry>();
  std::unique_ptr<prometheus::Exposer> exposer_;
  std::string address_;
  std::string addresses_;
};

// A gauge family with one sample per label value, for collectors: `counts` maps the value of
// `label` to the sample.
prometheus::MetricFamily GaugeFamily(const std::string& name, const std::string& help, const std::string& label,
                                     const std::vector<std::pair<std::string, double>>& counts);

// A histogram family (seconds) with one sample per label value, from LatencyHistograms.
prometheus::MetricFamily HistogramFamily(const std::string& name, const std::string& help, const std::string& label,
                                         const std::vector<std::pair<std::string, const LatencyHistogram*>>& samples);

// A counter family; each sample carries `labels` (name, value pairs) and its count.
prometheus::MetricFamily CounterFamily(
    const std::string& name, const std::string& help,
    const std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, double>>& samples);

// A counter family of OutcomeStats: one sample per (label value, result), result being succeeded,
// conflict or failed; `label` empty: result alone.
prometheus::MetricFamily OutcomeFamily(const std::string& name, const std::string& help, const std::string& label,
                                       const std::vector<std::pair<std::string, const OutcomeStats*>>& samples);
// A family of one sample without labels.
prometheus::MetricFamily SingleCounter(const std::string& name, const std::string& help, double value);
prometheus::MetricFamily SingleGauge(const std::string& name, const std::string& help, double value);

}  // namespace opctl
