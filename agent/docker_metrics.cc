#include "agent/docker_metrics.h"

#include "absl/strings/str_cat.h"

namespace opctl::agent {

DockerMetrics::DockerMetrics(prometheus::Registry& registry)
    : calls_(prometheus::BuildCounter()
                 .Name("opctl_agent_docker_requests_total")
                 .Help("Docker Engine API calls the agent made, by call and HTTP status (unreachable: dockerd was not "
                       "reached)")
                 .Register(registry)),
      latency_(prometheus::BuildHistogram()
                   .Name("opctl_agent_docker_request_duration_seconds")
                   .Help("how long Docker Engine API calls took, by call")
                   .Register(registry)) {}

void DockerMetrics::Observe(const std::string& call, long http_status, absl::Duration took) {
  calls_.Add({{"call", call}, {"code", http_status == 0 ? "unreachable" : absl::StrCat(http_status)}}).Increment();
  static const prometheus::Histogram::BucketBoundaries kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                                   0.25,  0.5,    1,     2.5,  5,     10,   30};
  latency_.Add({{"call", call}}, kBuckets).Observe(absl::ToDoubleSeconds(took));
}

}  // namespace opctl::agent
