#include "common/metrics_endpoint.h"

#include <cstdio>
#include <exception>

#include "absl/strings/str_cat.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"

namespace opctl {

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return absl::InvalidArgumentError(absl::StrCat("\"", address, "\" is not HOST:PORT"));
  auto endpoint = std::unique_ptr<MetricsEndpoint>(new MetricsEndpoint());
  try {
    // One thread serves: Prometheus scrapes every few seconds, and a scrape takes milliseconds.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(address, 1);
  } catch (const std::exception& error) {
    return absl::UnavailableError(absl::StrCat("cannot listen on ", address, " for metrics: ", error.what()));
  }
  std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  endpoint->address_ = absl::StrCat(address.substr(0, colon), ":", ports.empty() ? 0 : ports.front());
  endpoint->exposer_->RegisterCollectable(endpoint->registry_);
  return endpoint;
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::StartForFlag(const std::string& address,
                                                                               const std::string& default_address,
                                                                               const std::string& program) {
  if (address.empty()) return nullptr;
  absl::StatusOr<std::unique_ptr<MetricsEndpoint>> endpoint = Start(address);
  if (absl::IsUnavailable(endpoint.status()) && address == default_address) {
    std::fprintf(stderr, "%s: serving no metrics: %s (--metrics-listen picks another address)\n", program.c_str(),
                 std::string(endpoint.status().message()).c_str());
    return nullptr;
  }
  if (endpoint.ok()) std::printf("%s: metrics on http://%s/metrics\n", program.c_str(), (*endpoint)->address().c_str());
  return endpoint;
}

MetricsEndpoint::~MetricsEndpoint() = default;

void MetricsEndpoint::Add(const std::shared_ptr<prometheus::Collectable>& collector) {
  exposer_->RegisterCollectable(collector);
}

prometheus::MetricFamily GaugeFamily(const std::string& name, const std::string& help, const std::string& label,
                                     const std::vector<std::pair<std::string, double>>& counts) {
  prometheus::MetricFamily family;
  family.name = name;
  family.help = help;
  family.type = prometheus::MetricType::Gauge;
  for (const auto& [value, count] : counts) {
    prometheus::ClientMetric sample;
    if (!label.empty()) sample.label.push_back({label, value});
    sample.gauge.value = count;
    family.metric.push_back(std::move(sample));
  }
  return family;
}

}  // namespace opctl
