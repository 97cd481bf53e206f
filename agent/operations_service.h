// The agent's side of opctl.v1.Operations (proto/opctl/v1/operations.proto): logs, exec and port
// forwarding of this node's containers (interactive_operations.cc) and backup and restore of its volumes, called by the
// controller on the address the agent reports in its Node. Containers are found by opctl's labels, so only managed ones
// answer. With TLS, only the controller may call (its certificate, checked on every call).
#pragma once

#include <string>

#include "agent/docker_client.h"
#include "agent/volume_archiver.h"
#include "common/stream_watchdog.h"
#include "grpcpp/grpcpp.h"
#include "opctl/v1/operations.grpc.pb.h"

namespace opctl::agent {

class OperationsService final : public v1::Operations::Service {
 public:
  // `controller_only`: refuse callers without the controller's certificate (false: --insecure).
  OperationsService(DockerClient& docker, VolumeArchiver& archiver, std::string node_name, bool controller_only,
                    absl::Duration write_timeout = absl::Seconds(60));

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
  // The managed Docker container of Container `name` on this node; NOT_FOUND when there is none.
  absl::StatusOr<DockerContainer> FindContainer(const std::string& name);
  // Relays a connection's bytes both ways until the container closes it and the caller half-closes.
  grpc::Status RelayConnection(grpc::ServerContext* context, int fd,
                               grpc::ServerReaderWriter<v1::PortForwardResponse, v1::PortForwardRequest>* stream);
  // PERMISSION_DENIED unless the caller is the controller (when checked).
  grpc::Status CheckCaller(const grpc::ServerContext& context) const;
  // FAILED_PRECONDITION unless `node_name` is empty or this node.
  grpc::Status CheckNode(const std::string& node_name) const;

  DockerClient& docker_;
  VolumeArchiver& archiver_;
  StreamWatchdog watchdog_;  // a caller (the controller) that stops reading is cut off
  const std::string node_name_;
  const bool controller_only_;
};

}  // namespace opctl::agent
