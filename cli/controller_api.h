// The seam between the CLI's commands and opctl-controller: every call a command makes, as an
// interface, so each command can be tested for its output and exit codes against a fake
// (tests/cli/fake_controller.h) as well as end to end against the real controller. ControllerClient
// (client.h) is the gRPC implementation.
#pragma once

#include <memory>
#include <string>

#include "grpcpp/grpcpp.h"
#include "opctl/v1/controller.pb.h"
#include "opctl/v1/operations.pb.h"

namespace opctl::cli {

// A server stream: Read until false, then Finish for how it ended.
template <typename Message>
class StreamReader {
 public:
  virtual ~StreamReader() = default;
  virtual bool Read(Message* message) = 0;
  virtual grpc::Status Finish() = 0;
};

// The client stream of a volume restore: the target first, then the archive's bytes.
class RestoreWriter {
 public:
  virtual ~RestoreWriter() = default;
  // False once the server stopped reading (Finish says why).
  virtual bool Write(const v1::RestoreVolumeRequest& message) = 0;
  // Ends the stream and waits for the answer.
  virtual grpc::Status Finish(v1::RestoreVolumeResponse* response) = 0;
};

// A bidirectional stream. One thread may Read while another Writes; WritesDone ends the writing
// side; Finish, after Read has returned false, says how it ended.
template <typename Request, typename Response>
class BidiStream {
 public:
  virtual ~BidiStream() = default;
  virtual bool Write(const Request& message) = 0;
  virtual bool WritesDone() = 0;
  virtual bool Read(Response* message) = 0;
  virtual grpc::Status Finish() = 0;
};

class ControllerApi {
 public:
  virtual ~ControllerApi() = default;
  virtual grpc::Status Apply(const v1::ApplyRequest& request, v1::ApplyResponse* response) = 0;
  virtual grpc::Status Get(const v1::GetRequest& request, v1::Object* object) = 0;
  // The whole list, page by page: the items of every page, and the revision of the first (watch from
  // there to miss nothing).
  virtual grpc::Status List(const v1::ListRequest& request, v1::ListResponse* response) = 0;
  virtual grpc::Status Delete(const v1::DeleteRequest& request, v1::DeleteResponse* response) = 0;
  virtual grpc::Status Scale(const v1::ScaleRequest& request, v1::Object* object) = 0;
  virtual grpc::Status Cordon(const v1::CordonRequest& request, v1::Object* node) = 0;
  virtual grpc::Status Evict(const v1::EvictRequest& request, v1::Object* container) = 0;
  virtual grpc::Status ListControllers(const v1::ListControllersRequest& request,
                                       v1::ListControllersResponse* response) = 0;
  // Usage of running containers, from the agents (Operations.Top).
  virtual grpc::Status Top(const v1::TopRequest& request, v1::TopResponse* response) = 0;
  // Streams have no deadline: they last as long as the user follows them.
  virtual std::unique_ptr<StreamReader<v1::WatchEvent>> Watch(const v1::WatchRequest& request) = 0;
  virtual std::unique_ptr<StreamReader<v1::LogChunk>> Logs(const v1::LogsRequest& request) = 0;
  virtual std::unique_ptr<StreamReader<v1::DataChunk>> BackupVolume(const v1::BackupVolumeRequest& request) = 0;
  virtual std::unique_ptr<RestoreWriter> RestoreVolume() = 0;
  // Exec and PortForward may be called from any thread (port-forward opens a stream per connection).
  virtual std::unique_ptr<BidiStream<v1::ExecRequest, v1::ExecResponse>> Exec() = 0;
  virtual std::unique_ptr<BidiStream<v1::PortForwardRequest, v1::PortForwardResponse>> PortForward() = 0;
  // "cannot reach the controller at 127.0.0.1:7070: ..." for transport failures; the server's own
  // message otherwise.
  virtual std::string Explain(const grpc::Status& status) const = 0;
};

}  // namespace opctl::cli
