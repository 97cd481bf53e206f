#include "controller/election/leadership.h"

namespace opctl::controller {

Leadership::Leadership(EtcdClient& client, FencedStore& fenced, Manager& manager, NodeMonitor& monitor,
                       grpc::HealthCheckServiceInterface* health, LeadershipOptions options)
    : fenced_(fenced),
      manager_(manager),
      monitor_(monitor),
      health_(health),
      election_(client,
                {.name = options.prefix + "/leader",
                 .identity = options.identity,
                 .lease_ttl = options.lease_ttl,
                 .logger = options.logger},
                [this](std::optional<Fence> fence) { Changed(std::move(fence)); }),
      relay_(client, monitor, election_,
             {.prefix = options.prefix + "/heartbeats/", .identity = options.identity, .logger = options.logger}) {
  if (health_) health_->SetServingStatus(kLeaderHealthService, false);
}

void Leadership::Start() {
  election_.Start();
  relay_.Start();
}

void Leadership::Changed(std::optional<Fence> fence) {
  bool leading = fence.has_value();
  if (leading) {
    fenced_.SetFence(std::move(fence));
    monitor_.Start();  // what this controller did not hear while another led is not silence
    manager_.SetLeading(true);
  } else {
    manager_.SetLeading(false);
    fenced_.SetFence(std::nullopt);
  }
  if (health_) health_->SetServingStatus(kLeaderHealthService, leading);
}

}  // namespace opctl::controller
