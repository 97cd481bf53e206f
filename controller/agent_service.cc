#include "controller/agent_service.h"

#include "common/object.h"
#include "controller/controller_service.h"

namespace opctl::controller {
namespace {

constexpr absl::Duration kFenceMargin = absl::Milliseconds(750);

// Only the agent of `node` may speak for it.
absl::Status AuthorizeAgent(const Authorizer& authorizer, const grpc::CallbackServerContext& context,
                            const std::string& node, const std::string& action) {
  absl::StatusOr<Caller> caller = authorizer.Identify(context);
  return caller.ok() ? authorizer.RequireAgentOf(*caller, node, action) : caller.status();
}

}  // namespace

grpc::ServerUnaryReactor* AgentService::Heartbeat(grpc::CallbackServerContext* context,
                                                  const v1::HeartbeatRequest* request,
                                                  v1::HeartbeatResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = AuthorizeAgent(authorizer_, *context, request->node().metadata().name(), "heartbeat");
      !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  // A heartbeat usually changes nothing and answers at once; when it must write the Node it waits for
  // the disk, which is brief and rare.
  absl::Status status = monitor_.Heartbeat(request->node());
  response->set_grace_milliseconds(absl::ToInt64Milliseconds(monitor_.grace()));
  if (std::optional<v1::NodeBindings> bindings =
          placement_.BindingsOf(request->node().metadata().name(), request->bindings_revision())) {
    *response->mutable_bindings() = *std::move(bindings);
  }
  // A lone node keeps everything running when it loses the controller: nothing would replace it.
  // Otherwise its movable containers stop 750 ms before the controller may start their replacements.
  if (monitor_.KnownNodes() > 1) {
    response->set_fence_after_milliseconds(absl::ToInt64Milliseconds(monitor_.grace() - kFenceMargin));
  }
  reactor->Finish(ToWireStatus(status));
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::ReleaseFinalizer(grpc::CallbackServerContext* context,
                                                         const v1::ReleaseFinalizerRequest* request,
                                                         v1::Object* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = AuthorizeAgent(authorizer_, *context, request->node_name(), "release a finalizer");
      !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  registry_.ReleaseFinalizer(request->kind(), request->name(), request->finalizer(),
                             [reactor, response](absl::StatusOr<v1::Object> result) {
                               if (result.ok()) *response = *std::move(result);
                               reactor->Finish(ToWireStatus(result.status()));
                             });
  return reactor;
}

grpc::ServerUnaryReactor* AgentService::AgentGone(grpc::CallbackServerContext* context,
                                                  const v1::AgentGoneRequest* request, v1::AgentGoneResponse*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = AuthorizeAgent(authorizer_, *context, request->node_name(), "report its agent gone");
      !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  std::vector<std::string> removed(request->removed().begin(), request->removed().end());
  reactor->Finish(ToWireStatus(monitor_.AgentGone(request->node_name(), removed)));
  return reactor;
}

}  // namespace opctl::controller
