// The controller's side of opctl.v1.Operations: finds the node that holds a Container or Volume, and
// forwards the call to that node's agent (Node.status.agentAddress), streaming both ways (exec and
// port-forward: interactive_proxy.cc, audited in the controller's log). The
// caller's cancellation and deadline travel on to the agent. A Service's logs merge its Containers'.
//
// Bounded: a caller that stops reading is cut off (common/stream_watchdog.h), at most
// `max_streams` calls run at once, and a Service's logs follow at most kMaxFollowedReplicas replicas
// (one thread each); when a thread cannot be had, the call fails and the controller goes on.
//
// Thread-safe (gRPC's synchronous server runs each call on its own thread).
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "common/stream_watchdog.h"
#include "common/tls.h"
#include "controller/authorizer.h"
#include "controller/registry.h"
#include "grpcpp/grpcpp.h"
#include "opctl/v1/operations.grpc.pb.h"

namespace opctl::controller {

inline constexpr int kMaxFollowedReplicas = 100;

class OperationsProxy final : public v1::Operations::Service {
 public:
  // `agent_tls`: the CA agents' certificates come from and the controller's own certificate, shown
  // to them; empty `ca`: plaintext (--insecure). An agent must show its node's certificate.
  OperationsProxy(const Registry& registry, const Authorizer& authorizer, TlsFiles agent_tls = {},
                  int max_streams = 256, absl::Duration write_timeout = absl::Seconds(60))
      : registry_(registry),
        authorizer_(authorizer),
        agent_tls_(std::move(agent_tls)),
        max_streams_(max_streams),
        watchdog_(write_timeout) {}

  grpc::Status Logs(grpc::ServerContext* context, const v1::LogsRequest* request,
                    grpc::ServerWriter<v1::LogChunk>* writer) override;
  grpc::Status BackupVolume(grpc::ServerContext* context, const v1::BackupVolumeRequest* request,
                            grpc::ServerWriter<v1::DataChunk>* writer) override;
  grpc::Status RestoreVolume(grpc::ServerContext* context, grpc::ServerReader<v1::RestoreVolumeRequest>* reader,
                             v1::RestoreVolumeResponse* response) override;
  grpc::Status Top(grpc::ServerContext* context, const v1::TopRequest* request, v1::TopResponse* response) override;
  grpc::Status Exec(grpc::ServerContext* context,
                    grpc::ServerReaderWriter<v1::ExecResponse, v1::ExecRequest>* stream) override;
  grpc::Status PortForward(grpc::ServerContext* context,
                           grpc::ServerReaderWriter<v1::PortForwardResponse, v1::PortForwardRequest>* stream) override;

 private:
  // The Container a call on `kind`/`name` reaches: itself, or the Service's replica with ordinal
  // `replica` (any running one, lowest ordinal first, when `replica` < 0).
  absl::StatusOr<v1::Object> TargetContainer(const std::string& kind, const std::string& name, int replica) const;
  // Relays a bidirectional call to the agent's, as `open` starts it there, beginning with `first`.
  template <typename Request, typename Response, typename Open>
  grpc::Status Relay(grpc::ServerContext* context, grpc::ServerReaderWriter<Response, Request>* caller,
                     const Request& first, Open open);
  // "exec by alice in container redis-master-0: redis-cli" and the like, in the controller's log.
  void Audit(const grpc::ServerContext& context, const std::string& what) const;
  // Holds one of the max_streams places for the life of a call; RESOURCE_EXHAUSTED when none is left.
  class StreamPlace {
   public:
    explicit StreamPlace(OperationsProxy& proxy) : proxy_(proxy) {}
    ~StreamPlace();

   private:
    OperationsProxy& proxy_;
  };
  absl::StatusOr<std::unique_ptr<StreamPlace>> TakePlace();
  // OK when the caller of `context` is a user with `role`.
  grpc::Status Authorize(const grpc::ServerContext& context, Role role, const std::string& action) const;
  // The agent of a Ready node.
  absl::StatusOr<v1::Operations::Stub*> AgentOf(const std::string& node_name);
  // The node that holds a volume: `requested` when given, else the node of the Containers that mount
  // it, else the only node.
  // Logs of every replica of a Service, each line tagged with its container.
  grpc::Status ServiceLogs(grpc::ServerContext* context, const v1::LogsRequest& request,
                           grpc::ServerWriter<v1::LogChunk>* writer);
  // Runs each(i) for every one of `names` (containers, nodes) at once, on a thread each; waits for all.
  grpc::Status RunEach(grpc::ServerContext* context, const std::vector<std::string>& names,
                       const std::function<void(size_t)>& each);
  absl::StatusOr<std::string> NodeOfVolume(const std::string& volume, const std::string& requested);
  // Streams one Container's logs into `write` (the Service case shares one writer).
  grpc::Status ContainerLogs(grpc::ServerContext* context, const v1::LogsRequest& request,
                             const std::function<bool(const v1::LogChunk&)>& write);

  const Registry& registry_;
  const Authorizer& authorizer_;
  const TlsFiles agent_tls_;
  const int max_streams_;
  StreamWatchdog watchdog_;
  absl::Mutex mutex_;
  int streams_ ABSL_GUARDED_BY(mutex_) = 0;
  std::map<std::string, std::unique_ptr<v1::Operations::Stub>> agents_ ABSL_GUARDED_BY(mutex_);  // by node and address
};

}  // namespace opctl::controller
