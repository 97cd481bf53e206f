// OperationsProxy's interactive calls, Exec and PortForward: the target is resolved to one Container
// here, and the call is relayed to the agent of its node both ways, the caller's messages on a side
// thread and the agent's on the call's own. Both need role edit and are audited.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/notification.h"
#include "common/api_names.h"
#include "common/grpc_status.h"
#include "common/logger.h"
#include "common/quote.h"
#include "common/side_thread.h"
#include "controller/operations_proxy.h"

namespace opctl::controller {
namespace {

// How long a caller has to half-close once the agent's side has ended.
constexpr absl::Duration kHalfCloseGrace = absl::Seconds(10);
// How often a caller that has half-closed is checked for having gone away.
constexpr absl::Duration kCancellationCheck = absl::Milliseconds(100);
// A command longer than this is cut in the log (the whole of it can be megabytes).
constexpr size_t kAuditedCommandBytes = 300;

bool Running(const v1::Object& object) { return object.container().status().phase() == "Running"; }

grpc::Status Error(grpc::StatusCode code, const std::string& message) { return grpc::Status(code, message); }

absl::StatusOr<v1::Object> Scheduled(v1::Object container) {
  if (!container.container().spec().node_name().empty()) return container;
  return absl::FailedPreconditionError(
      absl::StrCat("container ", container.container().metadata().name(), " is not scheduled to a node yet"));
}

}  // namespace

void OperationsProxy::Audit(const grpc::ServerContext& context, const std::string& what) const {
  absl::StatusOr<Caller> caller = authorizer_.Identify(context);
  Logger::Stderr().Log("operations", absl::StrCat(what, " by ", caller.ok() ? caller->name : "?"));
}

absl::StatusOr<v1::Object> OperationsProxy::TargetContainer(const std::string& kind, const std::string& name,
                                                            int replica) const {
  if (kind.empty() || kind == kKindContainer) {
    std::optional<v1::Object> container = registry_.Find(kKindContainer, name);
    if (!container) return absl::NotFoundError(absl::StrCat("container ", Quote(name), " not found"));
    return Scheduled(*container);
  }
  if (kind != kKindService) return absl::InvalidArgumentError("the target is a Container or a Service");
  if (!registry_.Find(kKindService, name))
    return absl::NotFoundError(absl::StrCat("service ", Quote(name), " not found"));
  std::optional<v1::Object> chosen;
  for (const v1::Object& object : registry_.ListKind(kKindContainer)) {
    const v1::ContainerSpec& spec = object.container().spec();
    if (spec.service() != name) continue;
    if (replica >= 0 ? spec.ordinal() == replica
                     : Running(object) && (!chosen || spec.ordinal() < chosen->container().spec().ordinal())) {
      chosen = object;
    }
  }
  if (chosen) return Scheduled(*chosen);
  if (replica >= 0) return absl::NotFoundError(absl::StrCat("service ", name, " has no replica ", replica));
  return absl::FailedPreconditionError(absl::StrCat("service ", name, " has no running replica"));
}

template <typename Request, typename Response, typename Open>
grpc::Status OperationsProxy::Relay(grpc::ServerContext* context, grpc::ServerReaderWriter<Response, Request>* caller,
                                    const Request& first, Open open) {
  std::unique_ptr<grpc::ClientContext> forward = grpc::ClientContext::FromServerContext(*context);
  auto agent = open(forward.get());
  if (!agent->Write(first)) return agent->Finish();
  absl::Notification relay_ended;
  absl::StatusOr<std::unique_ptr<SideThread>> input = SideThread::Start([&] {
    Request message;
    while (caller->Read(&message)) {
      if (!agent->Write(message)) break;
    }
    agent->WritesDone();
    // The caller's stream also ends when the caller dies: then the agent's call is cancelled here
    // (gRPC's own propagation of the cancellation was seen to arrive after the half-close, or not).
    while (!relay_ended.WaitForNotificationWithTimeout(kCancellationCheck)) {
      if (context->IsCancelled()) {
        forward->TryCancel();
        break;
      }
    }
  });
  if (!input.ok()) {
    forward->TryCancel();
    agent->Finish().ok();
    return ToGrpcStatus(input.status());
  }
  Response message;
  while (agent->Read(&message)) {
    if (!watchdog_.TimedWrite(*context, [&] { return caller->Write(message); })) {
      forward->TryCancel();
      break;
    }
  }
  relay_ended.Notify();
  (*input)->Join(kHalfCloseGrace, [&] {
    context->TryCancel();
    forward->TryCancel();
  });
  return agent->Finish();
}

grpc::Status OperationsProxy::Exec(grpc::ServerContext* context,
                                   grpc::ServerReaderWriter<v1::ExecResponse, v1::ExecRequest>* stream) {
  if (grpc::Status allowed = Authorize(*context, Role::kEdit, "exec in containers"); !allowed.ok()) return allowed;
  absl::StatusOr<std::unique_ptr<StreamPlace>> place = TakePlace();
  if (!place.ok()) return ToGrpcStatus(place.status());
  v1::ExecRequest first;
  if (!stream->Read(&first) || !first.has_start()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "the first message must start the command");
  }
  v1::ExecRequest::Start& start = *first.mutable_start();
  absl::StatusOr<v1::Object> container =
      TargetContainer(start.kind(), start.name(), start.kind() == kKindService ? start.replica() : -1);
  if (!container.ok()) return ToGrpcStatus(container.status());
  start.set_kind(kKindContainer);
  start.set_name(container->container().metadata().name());
  absl::StatusOr<v1::Operations::Stub*> agent = AgentOf(container->container().spec().node_name());
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  std::string command = absl::StrJoin(start.command(), " ");
  if (command.size() > kAuditedCommandBytes) command = command.substr(0, kAuditedCommandBytes) + "...";
  Audit(*context, absl::StrCat("exec in container ", start.name(), ": ", command));
  return Relay(context, stream, first, [&](grpc::ClientContext* forward) { return (*agent)->Exec(forward); });
}

grpc::Status OperationsProxy::PortForward(
    grpc::ServerContext* context, grpc::ServerReaderWriter<v1::PortForwardResponse, v1::PortForwardRequest>* stream) {
  if (grpc::Status allowed = Authorize(*context, Role::kEdit, "forward ports"); !allowed.ok()) return allowed;
  absl::StatusOr<std::unique_ptr<StreamPlace>> place = TakePlace();
  if (!place.ok()) return ToGrpcStatus(place.status());
  v1::PortForwardRequest first;
  if (!stream->Read(&first) || !first.has_target()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "the first message must name the target");
  }
  v1::PortForwardRequest::Target& target = *first.mutable_target();
  if (target.port() <= 0 || target.port() > 65535) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, absl::StrCat("port ", target.port(), " is not 1 to 65535"));
  }
  absl::StatusOr<v1::Object> container = TargetContainer(target.kind(), target.name(), -1);
  if (!container.ok()) return ToGrpcStatus(container.status());
  target.set_kind(kKindContainer);
  target.set_name(container->container().metadata().name());
  absl::StatusOr<v1::Operations::Stub*> agent = AgentOf(container->container().spec().node_name());
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  Audit(*context, absl::StrCat("port-forward to container ", target.name(), " port ", target.port()));
  return Relay(context, stream, first, [&](grpc::ClientContext* forward) { return (*agent)->PortForward(forward); });
}

}  // namespace opctl::controller
