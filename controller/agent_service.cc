#include "controller/agent_service.h"

#include "common/api_names.h"
#include "common/object.h"
#include "common/quote.h"
#include "common/stable_hash.h"
#include "common/validation.h"
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

// A stable fingerprint of the directory (over names and addresses); never 0, which means "none".
int64_t VersionOf(const std::vector<v1::PeerNode>& nodes) {
  StableHash hash;
  for (const v1::PeerNode& node : nodes) hash.Add(node.name()).Add(node.address());
  return static_cast<int64_t>(hash.value() >> 1) | 1;
}

}  // namespace

std::shared_ptr<const AgentService::PeerDirectory> AgentService::Peers() {
  absl::MutexLock lock(&peers_mutex_);
  absl::Time now = absl::Now();
  if (peers_ == nullptr || now - peers_read_ >= absl::Seconds(1)) {
    auto directory = std::make_shared<PeerDirectory>();
    for (const v1::Object& node : registry_.ListKind(kKindNode)) {
      v1::PeerNode& peer = directory->nodes.emplace_back();
      peer.set_name(node.node().metadata().name());
      peer.set_address(node.node().status().agent_address());
    }
    directory->version = VersionOf(directory->nodes);
    peers_ = std::move(directory);
    peers_read_ = now;
  }
  return peers_;
}

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
  // Whom to ask before fencing: the other nodes (see Peer.Lease).
  std::shared_ptr<const PeerDirectory> peers = Peers();
  response->set_peers_version(peers->version);
  if (request->peers_version() != peers->version) {
    response->set_has_peers(true);
    for (const v1::PeerNode& peer : peers->nodes) {
      if (peer.name() != request->node().metadata().name()) *response->add_peers() = peer;
    }
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
  // Each node releases only its own part of a Volume's data deletion, never another's finalizer.
  if (authorizer_.enforcing() &&
      (FindKind(request->kind()) == nullptr || FindKind(request->kind())->kind != kKindVolume ||
       request->finalizer() != DeleteDataFinalizer(request->node_name()))) {
    reactor->Finish(ToWireStatus(absl::PermissionDeniedError(
        absl::StrCat("the agent of node ", Clip(request->node_name()), " may release only its own finalizer ",
                     DeleteDataFinalizer(Clip(request->node_name())), " of a Volume"))));
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

grpc::ServerUnaryReactor* AgentService::ReportEvents(grpc::CallbackServerContext* context,
                                                     const v1::ReportEventsRequest* request,
                                                     v1::ReportEventsResponse*) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = AuthorizeAgent(authorizer_, *context, request->node_name(), "report events");
      !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  if (request->events_size() > static_cast<int>(kMaxStatusEntries)) {
    reactor->Finish(ToWireStatus(
        absl::InvalidArgumentError(absl::StrCat("events: at most ", kMaxStatusEntries, " in one report"))));
    return reactor;
  }
  for (int i = 0; i < request->events_size(); ++i) {
    std::vector<FieldError> errors = ValidateEventReport(request->events(i), i);
    if (!errors.empty()) {
      reactor->Finish(ToWireStatus(absl::InvalidArgumentError(errors.front().ToString())));
      return reactor;
    }
  }
  events_.Report(request->node_name(), {request->events().begin(), request->events().end()});
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

}  // namespace opctl::controller
