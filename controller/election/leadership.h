// The elected side of a controller on etcd, wired: the election; on winning, the fence its leader's
// writes carry (FencedStore), every node a fresh grace and the leader-only loops started; on losing,
// the loops stopped and the fence dropped. Also the heartbeat relay, and gRPC health: the service
// "opctl.v1.Leader" is SERVING exactly while this controller leads.
#pragma once

#include <grpcpp/health_check_service_interface.h>

#include <string>

#include "common/logger.h"
#include "controller/control_plane_view.h"
#include "controller/election/heartbeat_relay.h"
#include "controller/election/leader_election.h"
#include "controller/node_monitor.h"
#include "controller/runtime/manager.h"
#include "controller/store/etcd_client.h"
#include "controller/store/fenced_store.h"

namespace opctl::controller {

inline constexpr char kLeaderHealthService[] = "opctl.v1.Leader";

struct LeadershipOptions {
  std::string identity;           // this controller's address, what the leader key holds
  std::string store;              // how ListControllers names the store
  std::string prefix = "/opctl";  // the election is PREFIX/leader, the relay's keys PREFIX/heartbeats/
  absl::Duration lease_ttl = absl::Seconds(2);
  Logger* logger = &Logger::Stderr();
};

class Leadership : public ControlPlaneView {
 public:
  Leadership(EtcdClient& client, FencedStore& fenced, Manager& manager, NodeMonitor& monitor,
             grpc::HealthCheckServiceInterface* health, LeadershipOptions options);
  void Start();
  const LeaderElection& election() const { return election_; }
  // The controllers that published lately (a minute), the leader marked.
  absl::StatusOr<v1::ListControllersResponse> Controllers() const override;

 private:
  void Changed(std::optional<Fence> fence);

  FencedStore& fenced_;
  Manager& manager_;
  NodeMonitor& monitor_;
  const std::string identity_;
  const std::string store_;
  grpc::HealthCheckServiceInterface* const health_;
  LeaderElection election_;  // after what Changed uses: destroyed (resigning) first
  HeartbeatRelay relay_;
};

}  // namespace opctl::controller
