#include "controller/agent_service.h"

#include "common/object.h"
#include "controller/controller_service.h"

namespace opctl::controller {

grpc::ServerUnaryReactor* AgentService::Heartbeat(grpc::CallbackServerContext* context,
                                                  const v1::HeartbeatRequest* request,
                                                  v1::HeartbeatResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  // A heartbeat usually changes nothing and answers at once; when it must write the Node it waits for
  // the disk, which is brief and rare.
  absl::Status status = monitor_.Heartbeat(request->node());
  response->set_grace_milliseconds(absl::ToInt64Milliseconds(monitor_.grace()));
  reactor->Finish(ToWireStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::ReleaseFinalizer(grpc::CallbackServerContext* context,
                                                         const v1::ReleaseFinalizerRequest* request,
                                                         v1::Object* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  registry_.ReleaseFinalizer(request->kind(), request->name(), request->finalizer(),
                             [reactor, response](absl::StatusOr<v1::Object> result) {
                               if (result.ok()) *response = *std::move(result);
                               reactor->Finish(ToWireStatus(result.status()));
                             });
  return reactor;
}

}  // namespace opctl::controller
