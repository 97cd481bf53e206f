#include "agent/peer_service.h"

#include "absl/time/clock.h"
#include "common/tls.h"

namespace opctl::agent {

grpc::Status PeerService::Lease(grpc::ServerContext* context, const v1::LeaseRequest*, v1::LeaseResponse* response) {
  if (check_callers_) {
    std::shared_ptr<const grpc::AuthContext> auth = context->auth_context();
    bool agent = auth != nullptr && auth->IsPeerAuthenticated() && PeerHasAgentCertificate(*auth);
    if (!agent && !RequireControllerPeer(*context).ok()) {
      return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                          "only the agents and the controller of this installation may ask (their certificates)");
    }
  }
  response->set_node_name(node_name_);
  response->set_controller_reachable(fence_.ControllerReachable(absl::Now()));
  return grpc::Status::OK;
}

}  // namespace opctl::agent
