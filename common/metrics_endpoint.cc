#include "common/metrics_endpoint.h"

#include <cstdio>
#include <exception>
#include <limits>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "common/logger.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"

namespace opctl {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& addresses) {
  std::vector<std::string> hosts;
  for (absl::string_view address : absl::StrSplit(addresses, ',')) {
    size_t colon = address.rfind(':');
    if (colon == absl::string_view::npos || colon == 0 || colon + 1 == address.size())
      return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" is not HOST:PORT"));
    hosts.emplace_back(address.substr(0, colon));
  }
  auto endpoint = std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint());
  try {
    // One thread serves: Prometheus scrapes every few seconds, and a scrape takes milliseconds. The
    // server (civetweb) takes the comma-separated list as it is.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(addresses, 1);
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", addresses, " for metrics: ", error.what()));
  }
  std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  std::vector<std::string> listening;
  for (size_t i = 0; i < hosts.size(); ++i)
    listening.push_back(absl::StrCat(hosts[i], ":", i < ports.size() ? ports[i] : 0));
  endpoint->address_ = listening.front();
  endpoint->addresses_ = absl::StrJoin(listening, ",");
  endpoint->exposer_->RegisterCollectable(endpoint->registry_);
  return endpoint;
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::StartForFlag(const std::string& address,
                                                                               const std::string& default_address,
                                                                               const std::string& program) {
  if (address.empty()) return nullptr;
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint = Start(address);
  if (absl::IsUnavailable(endpoint.status()) && address == default_address) {
    Logger::Stderr().Warn(program, absl::StrCat("serving no metrics: ", endpoint.status().message(),
                                                " (--metrics-listen picks another address)"));
    return nullptr;
  }
  if (endpoint.ok())
    std::printf("%s: metrics on http://%s/metrics\n", program.c_str(),
                absl::StrReplaceAll((*endpoint)->addresses(), {{",", "/metrics, http://"}}).c_str());
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

void MetricsEndpoint::Add(const std::shared_ptr<prometheus::Collectable>& collector) {
  exposer_->RegisterCollectable(collector);
}

namespace {

prometheus::MetricFamily EmptyFamily(const std::string& name, const std::string& help, prometheus::MetricType type) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = type;
  return family;
}

}  // namespace

prometheus::MetricFamily GaugeFamily(const std::string& name, const std::string& help, const std::string& label,
                                     const std::vector<std::pair<std::string, double>>& counts) {
  prometheus::MetricFamily family = EmptyFamily(name, help, prometheus::MetricType::Gauge);
  for (const auto& [value, count] : counts) {
    prometheus::ClientMetric sample;
    if (!label.empty()) sample.label.push_back({label, value});
    sample.gauge.value = count;
    family.metric.push_back(std::move(sample));
  }
  return family;
}

prometheus::MetricFamily HistogramFamily(const std::string& name, const std::string& help, const std::string& label,
                                         const std::vector<std::pair<std::string, const LatencyHistogram*>>& samples) {
  prometheus::MetricFamily family = EmptyFamily(name, help, prometheus::MetricType::Histogram);
  for (const auto& [value, histogram] : samples) {
    LatencyHistogram::Snapshot snapshot = histogram->Read();
    prometheus::ClientMetric sample;
    if (!label.empty()) sample.label.push_back({label, value});
    uint64_t cumulative = 0;
    for (size_t i = 0; i < LatencyHistogram::kBounds.size(); ++i) {
      cumulative += snapshot.counts[i];
      sample.histogram.bucket.push_back({cumulative, LatencyHistogram::kBounds[i]});
    }
    cumulative += snapshot.counts.back();
    sample.histogram.bucket.push_back({cumulative, std::numeric_limits<double>::infinity()});
    sample.histogram.sample_count = cumulative;
    sample.histogram.sample_sum = snapshot.sum_seconds;
    family.metric.push_back(std::move(sample));
  }
  return family;
}

prometheus::MetricFamily CounterFamily(
    const std::string& name, const std::string& help,
    const std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, double>>& samples) {
  prometheus::MetricFamily family = EmptyFamily(name, help, prometheus::MetricType::Counter);
  for (const auto& [labels, count] : samples) {
    prometheus::ClientMetric sample;
    for (const auto& [key, value] : labels) sample.label.push_back({key, value});
    sample.counter.value = count;
    family.metric.push_back(std::move(sample));
  }
  return family;
}

prometheus::MetricFamily OutcomeFamily(const std::string& name, const std::string& help, const std::string& label,
                                       const std::vector<std::pair<std::string, const OutcomeStats*>>& samples) {
  std::vector<std::pair<std::vector<std::pair<std::string, std::string>>, double>> counts;
  for (const auto& [value, stats] : samples) {
    for (const auto& [result, count] :
         {std::pair{"succeeded", &stats->succeeded}, std::pair{"conflict", &stats->conflicts},
          std::pair{"failed", &stats->failed}}) {
      std::vector<std::pair<std::string, std::string>> labels;
      if (!label.empty()) labels.emplace_back(label, value);
      labels.emplace_back("result", result);
      counts.emplace_back(std::move(labels), static_cast<double>(count->load()));
    }
  }
  return CounterFamily(name, help, counts);
}

prometheus::MetricFamily SingleCounter(const std::string& name, const std::string& help, double value) {
  return CounterFamily(name, help, {{{}, value}});
}

prometheus::MetricFamily SingleGauge(const std::string& name, const std::string& help, double value) {
  return GaugeFamily(name, help, "", {{"", value}});
}

}  // namespace opctl
