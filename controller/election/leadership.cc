#include "controller/election/leadership.h"

namespace opctl::controller {

Leadership::Leadership(EtcdClient& client, FencedStore& fenced, Manager& manager, NodeMonitor& monitor,
                       grpc::HealthCheckServiceInterface* health, LeadershipOptions options)
    : fenced_(fenced),
      manager_(manager),
      monitor_(monitor),
      identity_(options.identity),
      store_(options.store),
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

absl::StatusOr<v1::ListControllersResponse> Leadership::Controllers() const {
  absl::StatusOr<std::vector<HeartbeatRelay::Member>> members = relay_.Members();
  if (!members.ok()) return members.status();
  std::string leader = election_.Leader();
  v1::ListControllersResponse response;
  response.set_store(store_);
  for (const HeartbeatRelay::Member& member : *members) {
    if (member.since_seen > absl::Minutes(1) && member.identity != leader) continue;  // gone
    v1::ControllerInfo* info = response.add_controllers();
    info->set_address(member.identity);
    info->set_leader(member.identity == leader);
    info->set_nodes_heard(member.nodes_heard);
    info->set_this_controller(member.identity == identity_);
    info->set_last_seen_ms(
        info->this_controller() ? 0 : std::max<int64_t>(0, absl::ToInt64Milliseconds(member.since_seen)));
  }
  return response;
}

}  // namespace opctl::controller
