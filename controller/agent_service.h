// The gRPC edge agents use besides the Controller service: heartbeats (with the node's bindings and
// its fencing deadline), finalizer release, the fence guard's report of a dead agent and Events (see
// proto/opctl/v1/agent.proto for the protocol). Thin; thread-safe.
#pragma once

#include <cstdint>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "controller/authorizer.h"
#include "controller/events/event_writer.h"
#include "controller/node_monitor.h"
#include "controller/placement_index.h"
#include "controller/registry.h"
#include "opctl/v1/agent.grpc.pb.h"

namespace opctl::controller {

class AgentService final : public v1::Agent::CallbackService {
 public:
  AgentService(Registry& registry, NodeMonitor& monitor, const PlacementIndex& placement, const Authorizer& authorizer,
               EventWriter& events)
      : registry_(registry), monitor_(monitor), placement_(placement), authorizer_(authorizer), events_(events) {}

  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext* context, const v1::HeartbeatRequest* request,
                                      v1::HeartbeatResponse* response) override;
  grpc::ServerUnaryReactor* ReleaseFinalizer(grpc::CallbackServerContext* context,
                                             const v1::ReleaseFinalizerRequest* request, v1::Object* response) override;
  grpc::ServerUnaryReactor* AgentGone(grpc::CallbackServerContext* context, const v1::AgentGoneRequest* request,
                                      v1::AgentGoneResponse* response) override;
  // Validated whole (INVALID_ARGUMENT names the first bad field, nothing is taken), then folded.
  grpc::ServerUnaryReactor* ReportEvents(grpc::CallbackServerContext* context, const v1::ReportEventsRequest* request,
                                         v1::ReportEventsResponse* response) override;

 private:
  // Every registered node's name and agent address, read at most once a second (not once per
  // heartbeat), with a version that changes when they do.
  struct PeerDirectory {
    std::vector<v1::PeerNode> nodes;
    int64_t version = 0;
  };
  std::shared_ptr<const PeerDirectory> Peers();

  Registry& registry_;
  NodeMonitor& monitor_;
  const PlacementIndex& placement_;
  const Authorizer& authorizer_;
  EventWriter& events_;
  absl::Mutex peers_mutex_;
  std::shared_ptr<const PeerDirectory> peers_ ABSL_GUARDED_BY(peers_mutex_);
  absl::Time peers_read_ ABSL_GUARDED_BY(peers_mutex_) = absl::InfinitePast();
};

}  // namespace opctl::controller
