#include "controller/operations_proxy.h"

#include <algorithm>
#include <set>
#include <system_error>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api_names.h"
#include "common/grpc_status.h"
#include "common/quote.h"
#include "controller/scheduler.h"

namespace opctl::controller {
namespace {

grpc::Status Error(grpc::StatusCode code, const std::string& message) { return grpc::Status(code, message); }

bool Mounts(const v1::Container& container, const std::string& volume) {
  const auto& mounts = container.spec().template_().volume_mounts();
  return std::any_of(mounts.begin(), mounts.end(), [&](const v1::VolumeMount& m) { return m.name() == volume; });
}

}  // namespace

OperationsProxy::StreamPlace::~StreamPlace() {
  absl::MutexLock lock(&proxy_.mutex_);
  --proxy_.streams_;
}

absl::StatusOr<std::unique_ptr<OperationsProxy::StreamPlace>> OperationsProxy::TakePlace() {
  absl::MutexLock lock(&mutex_);
  if (streams_ >= max_streams_) {
    return absl::ResourceExhaustedError(absl::StrCat("the controller already runs ", streams_,
                                                     " log, backup and restore streams, the most it takes at once; "
                                                     "try again when some have ended"));
  }
  ++streams_;
  return std::make_unique<StreamPlace>(*this);
}

absl::StatusOr<v1::Operations::Stub*> OperationsProxy::AgentOf(const std::string& node_name) {
  std::optional<v1::Object> node = registry_.Find(kKindNode, node_name);
  if (!node) return absl::NotFoundError(absl::StrCat("node ", Quote(node_name), " is not registered"));
  if (!NodeIsReady(node->node())) {
    return absl::UnavailableError(absl::StrCat("node ", node_name, " is NotReady: its agent cannot be reached"));
  }
  const std::string& address = node->node().status().agent_address();
  if (address.empty()) {
    return absl::FailedPreconditionError(absl::StrCat("the agent of node ", node_name, " reports no address"));
  }
  absl::MutexLock lock(&mutex_);
  std::unique_ptr<v1::Operations::Stub>& stub = agents_[absl::StrCat(node_name, "@", address)];
  if (stub == nullptr) {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(64 << 20);
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (!agent_tls_.ca.empty()) {
      absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> tls = TlsChannelCredentials(agent_tls_);
      if (!tls.ok()) return tls.status();
      credentials = *std::move(tls);
      // The agent's certificate must name its node (its SAN is the node name), whatever the address.
      arguments.SetSslTargetNameOverride(AgentServerName(node_name));
    }
    stub = v1::Operations::NewStub(grpc::CreateCustomChannel(address, credentials, arguments));
  }
  return stub.get();
}

grpc::Status OperationsProxy::ContainerLogs(grpc::ServerContext* context, const v1::LogsRequest& request,
                                            const std::function<bool(const v1::LogChunk&)>& write) {
  std::optional<v1::Object> container = registry_.Find(kKindContainer, request.name());
  if (!container)
    return Error(grpc::StatusCode::NOT_FOUND, absl::StrCat("container ", Quote(request.name()), " not found"));
  const std::string& node = container->container().spec().node_name();
  if (node.empty()) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION,
                 absl::StrCat("container ", request.name(), " is not scheduled to a node yet"));
  }
  absl::StatusOr<v1::Operations::Stub*> agent = AgentOf(node);
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  std::unique_ptr<grpc::ClientContext> forward = grpc::ClientContext::FromServerContext(*context);
  v1::LogsRequest single = request;
  single.set_kind(kKindContainer);
  std::unique_ptr<grpc::ClientReader<v1::LogChunk>> reader = (*agent)->Logs(forward.get(), single);
  v1::LogChunk chunk;
  while (reader->Read(&chunk)) {
    if (!write(chunk)) {
      forward->TryCancel();
      break;
    }
  }
  return reader->Finish();
}

grpc::Status OperationsProxy::Authorize(const grpc::ServerContext& context, Role role,
                                        const std::string& action) const {
  absl::StatusOr<Caller> caller = authorizer_.Identify(context);
  return ToGrpcStatus(caller.ok() ? authorizer_.RequireRole(*caller, role, action) : caller.status());
}

grpc::Status OperationsProxy::Logs(grpc::ServerContext* context, const v1::LogsRequest* request,
                                   grpc::ServerWriter<v1::LogChunk>* writer) {
  if (grpc::Status allowed = Authorize(*context, Role::kView, "read logs"); !allowed.ok()) return allowed;
  absl::StatusOr<std::unique_ptr<StreamPlace>> place = TakePlace();
  if (!place.ok()) return ToGrpcStatus(place.status());
  std::string kind = request->kind().empty() ? "Container" : request->kind();
  if (kind == kKindContainer) {
    return ContainerLogs(context, *request, [this, context, writer](const v1::LogChunk& chunk) {
      return watchdog_.TimedWrite(*context, [&] { return writer->Write(chunk); });
    });
  }
  if (kind != kKindService) return Error(grpc::StatusCode::INVALID_ARGUMENT, "logs are of a Container or a Service");
  return ServiceLogs(context, *request, writer);
}

grpc::Status OperationsProxy::ServiceLogs(grpc::ServerContext* context, const v1::LogsRequest& request,
                                          grpc::ServerWriter<v1::LogChunk>* writer) {
  if (!registry_.Find(kKindService, request.name())) {
    return Error(grpc::StatusCode::NOT_FOUND, absl::StrCat("service ", Quote(request.name()), " not found"));
  }
  std::vector<v1::Container> containers;
  for (const v1::Object& object : registry_.ListKind(kKindContainer)) {
    if (object.container().spec().service() == request.name()) containers.push_back(object.container());
  }
  std::sort(containers.begin(), containers.end(),
            [](const v1::Container& a, const v1::Container& b) { return a.spec().ordinal() < b.spec().ordinal(); });
  if (containers.empty()) {
    return Error(grpc::StatusCode::FAILED_PRECONDITION,
                 absl::StrCat("service ", request.name(), " has no containers (replicas 0?)"));
  }
  if (request.follow() && containers.size() > static_cast<size_t>(kMaxFollowedReplicas)) {
    return Error(
        grpc::StatusCode::RESOURCE_EXHAUSTED,
        absl::StrCat("service ", request.name(), " has ", containers.size(), " containers; logs -f follows at most ",
                     kMaxFollowedReplicas, " at once: follow single containers"));
  }
  absl::Mutex write_mutex;
  auto write = [&](const v1::LogChunk& chunk) {
    absl::MutexLock lock(&write_mutex);
    return watchdog_.TimedWrite(*context, [&] { return writer->Write(chunk); });
  };
  std::vector<grpc::Status> results(containers.size());
  auto one = [&](size_t i) {
    v1::LogsRequest single = request;
    single.set_kind(kKindContainer);
    single.set_name(containers[i].metadata().name());
    results[i] = ContainerLogs(context, single, write);
  };
  if (request.follow()) {
    std::vector<std::string> names;
    for (const v1::Container& container : containers) names.push_back(container.metadata().name());
    if (grpc::Status started = RunEach(context, names, one); !started.ok()) return started;
  } else {
    for (size_t i = 0; i < containers.size(); ++i) one(i);  // replica by replica, as compose prints them
  }
  std::vector<std::string> failures;
  for (size_t i = 0; i < results.size(); ++i) {
    if (!results[i].ok()) failures.push_back(containers[i].metadata().name() + ": " + results[i].error_message());
  }
  if (failures.size() == containers.size()) {
    return Error(results.front().error_code(), absl::StrJoin(failures, "; "));
  }
  return grpc::Status::OK;
}

// Each replica's stream runs until it ends; lines interleave as they come. A thread that cannot be
// had ends the call, never the controller.
grpc::Status OperationsProxy::RunEach(grpc::ServerContext* context, const std::vector<std::string>& names,
                                      const std::function<void(size_t)>& follow) {
  std::vector<std::thread> threads;
  grpc::Status started = grpc::Status::OK;
  for (size_t i = 0; i < names.size(); ++i) {
    try {
      threads.emplace_back(follow, i);
    } catch (const std::system_error& error) {
      started = Error(grpc::StatusCode::RESOURCE_EXHAUSTED,
                      absl::StrCat("cannot start a thread for ", names[i], ": ", error.what()));
      context->TryCancel();  // the replicas already followed end too
      break;
    }
  }
  for (std::thread& thread : threads) thread.join();
  return started;
}

absl::StatusOr<std::string> OperationsProxy::NodeOfVolume(const std::string& volume, const std::string& requested) {
  if (!registry_.Find(kKindVolume, volume))
    return absl::NotFoundError(absl::StrCat("volume ", Quote(volume), " not found"));
  if (!requested.empty()) return requested;
  std::set<std::string> nodes;
  for (const v1::Object& object : registry_.ListKind(kKindContainer)) {
    const v1::Container& container = object.container();
    if (Mounts(container, volume) && !container.spec().node_name().empty()) nodes.insert(container.spec().node_name());
  }
  if (nodes.empty()) {
    for (const v1::Object& node : registry_.ListKind(kKindNode)) nodes.insert(node.node().metadata().name());
    if (nodes.size() > 1) {
      return absl::FailedPreconditionError(absl::StrCat("no container mounts volume ", volume,
                                                        ", so its node is not known: name it with --node (one of ",
                                                        absl::StrJoin(nodes, ", "), ")"));
    }
  }
  if (nodes.empty()) return absl::FailedPreconditionError("no node is registered");
  if (nodes.size() > 1) {
    return absl::FailedPreconditionError(absl::StrCat("volume ", volume, " is mounted on several nodes (",
                                                      absl::StrJoin(nodes, ", "), "): name one with --node"));
  }
  return *nodes.begin();
}

grpc::Status OperationsProxy::BackupVolume(grpc::ServerContext* context, const v1::BackupVolumeRequest* request,
                                           grpc::ServerWriter<v1::DataChunk>* writer) {
  if (grpc::Status allowed = Authorize(*context, Role::kEdit, "back up a volume"); !allowed.ok()) return allowed;
  absl::StatusOr<std::unique_ptr<StreamPlace>> place = TakePlace();
  if (!place.ok()) return ToGrpcStatus(place.status());
  absl::StatusOr<std::string> node = NodeOfVolume(request->name(), request->node_name());
  if (!node.ok()) return ToGrpcStatus(node.status());
  absl::StatusOr<v1::Operations::Stub*> agent = AgentOf(*node);
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  std::unique_ptr<grpc::ClientContext> forward = grpc::ClientContext::FromServerContext(*context);
  v1::BackupVolumeRequest on_node = *request;
  on_node.set_node_name(*node);
  std::unique_ptr<grpc::ClientReader<v1::DataChunk>> reader = (*agent)->BackupVolume(forward.get(), on_node);
  v1::DataChunk chunk;
  while (reader->Read(&chunk)) {
    if (!watchdog_.TimedWrite(*context, [&] { return writer->Write(chunk); })) {
      forward->TryCancel();
      break;
    }
  }
  return reader->Finish();
}

grpc::Status OperationsProxy::RestoreVolume(grpc::ServerContext* context,
                                            grpc::ServerReader<v1::RestoreVolumeRequest>* reader,
                                            v1::RestoreVolumeResponse* response) {
  if (grpc::Status allowed = Authorize(*context, Role::kAdmin, "restore a volume"); !allowed.ok()) return allowed;
  absl::StatusOr<std::unique_ptr<StreamPlace>> place = TakePlace();
  if (!place.ok()) return ToGrpcStatus(place.status());
  v1::RestoreVolumeRequest message;
  if (!reader->Read(&message) || !message.has_target()) {
    return Error(grpc::StatusCode::INVALID_ARGUMENT, "the first message must name the target volume");
  }
  absl::StatusOr<std::string> node = NodeOfVolume(message.target().name(), message.target().node_name());
  if (!node.ok()) return ToGrpcStatus(node.status());
  absl::StatusOr<v1::Operations::Stub*> agent = AgentOf(*node);
  if (!agent.ok()) return ToGrpcStatus(agent.status());
  std::unique_ptr<grpc::ClientContext> forward = grpc::ClientContext::FromServerContext(*context);
  std::unique_ptr<grpc::ClientWriter<v1::RestoreVolumeRequest>> upstream =
      (*agent)->RestoreVolume(forward.get(), response);
  message.mutable_target()->set_node_name(*node);
  bool open = upstream->Write(message);
  while (open && reader->Read(&message)) open = upstream->Write(message);
  if (context->IsCancelled()) forward->TryCancel();
  upstream->WritesDone();
  return upstream->Finish();
}

grpc::Status OperationsProxy::Top(grpc::ServerContext* context, const v1::TopRequest* request,
                                  v1::TopResponse* response) {
  if (grpc::Status allowed = Authorize(*context, Role::kView, "read usage"); !allowed.ok()) return allowed;
  std::vector<std::string> nodes;
  for (const v1::Object& node : registry_.ListKind(kKindNode)) {
    if (request->node_name().empty() || node.node().metadata().name() == request->node_name()) {
      nodes.push_back(node.node().metadata().name());
    }
  }
  if (!request->node_name().empty() && nodes.empty()) {
    return Error(grpc::StatusCode::NOT_FOUND, absl::StrCat("node ", Quote(request->node_name()), " is not registered"));
  }
  // Every node at once: each agent takes about a second to sample its containers.
  std::vector<v1::TopResponse> answers(nodes.size());
  std::vector<std::string> failures(nodes.size());
  auto ask = [&](size_t i) {
    absl::StatusOr<v1::Operations::Stub*> agent = AgentOf(nodes[i]);
    if (!agent.ok()) {
      failures[i] = std::string(agent.status().message());
      return;
    }
    grpc::ClientContext forward;
    forward.set_deadline(std::min(context->deadline(), std::chrono::system_clock::now() + std::chrono::seconds(30)));
    v1::TopRequest single = *request;
    single.set_node_name(nodes[i]);
    grpc::Status status = (*agent)->Top(&forward, single, &answers[i]);
    if (!status.ok()) failures[i] = status.error_message();
  };
  if (grpc::Status asked = RunEach(context, nodes, ask); !asked.ok()) return asked;
  for (size_t i = 0; i < nodes.size(); ++i) {
    for (v1::ContainerUsage& usage : *answers[i].mutable_containers()) *response->add_containers() = std::move(usage);
    if (!failures[i].empty()) response->add_unavailable(absl::StrCat(nodes[i], ": ", failures[i]));
  }
  std::sort(response->mutable_containers()->begin(), response->mutable_containers()->end(),
            [](const v1::ContainerUsage& a, const v1::ContainerUsage& b) { return a.container() < b.container(); });
  return grpc::Status::OK;
}

}  // namespace opctl::controller
