// The agent's side of opctl.v1.Peer (proto/opctl/v1/agent.proto): tells another node's agent, or
// the controller, whether this node still reaches the controller, from its fence's lease. With TLS,
// only callers showing an agent's or the controller's certificate from this installation's CA.
//
// Thread-safe.
#pragma once

#include "agent/fence.h"
#include "grpcpp/grpcpp.h"
#include "opctl/v1/agent.grpc.pb.h"

namespace opctl::agent {

class PeerService final : public v1::Peer::Service {
 public:
  // `check_callers`: refuse callers without a certificate of this installation (false: --insecure).
  PeerService(const Fence& fence, std::string node_name, bool check_callers)
      : fence_(fence), node_name_(std::move(node_name)), check_callers_(check_callers) {}

  grpc::Status Lease(grpc::ServerContext* context, const v1::LeaseRequest* request,
                     v1::LeaseResponse* response) override;

 private:
  const Fence& fence_;
  const std::string node_name_;
  const bool check_callers_;
};

}  // namespace opctl::agent
