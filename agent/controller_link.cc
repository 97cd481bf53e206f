#include "agent/controller_link.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/grpc_status.h"
#include "common/list_pages.h"
#include "common/object.h"

namespace opctl::agent {
namespace {

constexpr absl::Duration kCallTimeout = absl::Seconds(10);
// A heartbeat that takes longer is as good as lost; the next one goes out at once.
constexpr absl::Duration kHeartbeatTimeout = absl::Seconds(1);
constexpr absl::Duration kFenceCheckInterval = absl::Milliseconds(50);
constexpr int64_t kListPage = 1000;
// Peers are asked this long before the lease would lapse, each given kPeerTimeout to answer.
constexpr absl::Duration kAskAhead = absl::Milliseconds(300);
constexpr absl::Duration kPeerTimeout = absl::Milliseconds(250);

std::unique_ptr<grpc::ClientContext> CallContext(absl::Duration timeout = kCallTimeout) {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  return context;
}

}  // namespace

ControllerLink::ControllerLink(std::shared_ptr<grpc::Channel> channel, DesiredState& desired, Fence& fence,
                               Enqueue enqueue, Resync resync, ControllerLinkOptions options)
    : controller_(v1::Controller::NewStub(channel)),
      agent_(v1::Agent::NewStub(channel)),
      desired_(desired),
      fence_(fence),
      enqueue_(std::move(enqueue)),
      resync_(std::move(resync)),
      options_(std::move(options)) {}

ControllerLink::~ControllerLink() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    if (watch_context_ != nullptr) watch_context_->TryCancel();
  }
  if (heartbeat_thread_.joinable()) heartbeat_thread_.join();
  if (watch_thread_.joinable()) watch_thread_.join();
  if (fence_thread_.joinable()) fence_thread_.join();
}

void ControllerLink::Start(const v1::Node& node) {
  heartbeat_thread_ = std::thread([this, node] { HeartbeatLoop(node); });
  watch_thread_ = std::thread([this] { WatchLoop(); });
  fence_thread_ = std::thread([this] { FenceLoop(); });
}

bool ControllerLink::Pause(absl::Duration duration) {
  absl::MutexLock lock(&mutex_);
  mutex_.AwaitWithTimeout(absl::Condition(&stopping_), duration);
  return !stopping_;
}

void ControllerLink::HeartbeatLoop(v1::Node node) {
  v1::HeartbeatRequest request;
  *request.mutable_node() = std::move(node);
  bool failing = false;
  do {
    v1::HeartbeatResponse response;
    request.set_bindings_revision(fence_.bindings_revision());
    if (options_.witness != nullptr) request.set_peers_version(options_.witness->peers_version());
    if (options_.volumes_held) {
      std::vector<std::string> volumes = options_.volumes_held();
      *request.mutable_node()->mutable_status()->mutable_volumes() = {volumes.begin(), volumes.end()};
    }
    absl::Time sent = absl::Now();
    auto context = CallContext(kHeartbeatTimeout);
    grpc::Status status = agent_->Heartbeat(context.get(), request, &response);
    if (status.ok()) {
      heartbeats_.Observe(absl::Now() - sent);
      fence_.Renew(sent, response);
      if (response.has_peers() && options_.witness != nullptr) {
        options_.witness->SetPeers({response.peers().begin(), response.peers().end()}, response.peers_version());
        // Until it knows its peers, a node that loses the controller fences rather than holds.
        options_.logger->Log("agent",
                             absl::StrCat("peers: ", response.peers_size(), " other node(s) to ask before fencing"));
      }
      // Bindings newer than the watch's view: what moved away while the link was down goes now.
      if (response.has_bindings() && response.bindings().revision() > desired_.revision()) resync_();
    }
    if (!status.ok() && !failing) {
      options_.logger->Warn("agent", absl::StrCat("heartbeat failed (code ", static_cast<int>(status.error_code()),
                                                  "): ", status.error_message()));
    }
    if (status.ok() && failing) options_.logger->Log("agent", "heartbeats are getting through again");
    failing = !status.ok();
  } while (Pause(options_.heartbeat_interval));
}

void ControllerLink::AskWitnesses(bool& holding) {
  bool hold = options_.witness->MostLostTheController(kPeerTimeout);
  // Held for one fencing window from this answer: the controller, once most nodes are back, gives
  // every node still silent a whole grace, longer than that, before it moves anything.
  fence_.Hold(hold ? absl::Now() + fence_.fence_after() : absl::InfinitePast());
  if (hold != holding) {
    holding = hold;
    options_.logger->Log("agent",
                         hold ? "no answer from the controller, and most nodes' agents say the same: holding the fence "
                                "(the controller moves nothing while most nodes are out of contact)"
                              : "no answer from the controller, and most nodes still reach it: not holding the fence");
  }
}

void ControllerLink::FenceLoop() {
  bool lapsed = false;
  bool holding = false;
  absl::Time next_question = absl::InfinitePast();
  while (Pause(kFenceCheckInterval)) {
    absl::Time now = absl::Now();
    // Only a lease that fences (fence_after > 0) and is about to lapse, then again every heartbeat
    // interval while the controller stays silent.
    if (options_.witness != nullptr && fence_.fence_after() > absl::ZeroDuration() &&
        !fence_.ControllerReachable(now + kAskAhead) && now >= next_question) {
      AskWitnesses(holding);
      next_question = now + options_.heartbeat_interval;
    }
    if (fence_.ControllerReachable(now)) holding = false;  // renewed: any hold is over
    if (fence_.Lapsed(absl::Now()) == lapsed) continue;
    lapsed = !lapsed;
    options_.logger->Warn("agent", lapsed ? "lease lapsed: stopping the containers the controller may move elsewhere"
                                          : "lease renewed: running what is bound here again");
    resync_();
  }
}

grpc::Status ControllerLink::ListAll(v1::ListResponse* response) {
  v1::ListRequest request;
  request.set_node_name(options_.node_name);
  return ListAllPages(request, kListPage, response, [this](const v1::ListRequest& page, v1::ListResponse* items) {
    auto context = CallContext();
    return controller_->List(context.get(), page, items);
  });
}

void ControllerLink::WatchLoop() {
  bool need_list = true;
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    {
      absl::MutexLock lock(&mutex_);
      if (stopping_) return;
    }
    if (need_list) {
      v1::ListResponse response;
      grpc::Status status = ListAll(&response);
      if (!status.ok()) {
        options_.logger->Warn("agent", absl::StrCat("list failed: ", status.error_message()));
        if (!Pause(backoff)) return;
        backoff = std::min(backoff * 2, absl::Seconds(5));
        continue;
      }
      std::vector<v1::Object> items(response.items().begin(), response.items().end());
      std::vector<std::string> changed = desired_.Replace(items, response.revision());
      changed.push_back(kGcKey);
      enqueue_(changed);
      need_list = false;
    }
    grpc::ClientContext context;
    {
      absl::MutexLock lock(&mutex_);
      if (stopping_) return;
      watch_context_ = &context;
    }
    v1::WatchRequest request;
    request.set_node_name(options_.node_name);
    request.set_resource_version(desired_.revision());
    auto reader = controller_->Watch(&context, request);
    v1::WatchEvent event;
    while (reader->Read(&event)) {
      backoff = absl::Milliseconds(100);
      if (event.type() == v1::WatchEvent::BOOKMARK) {
        desired_.SetRevision(event.revision());
        continue;
      }
      enqueue_({desired_.Apply(event)});
    }
    grpc::Status status = reader->Finish();
    {
      absl::MutexLock lock(&mutex_);
      watch_context_ = nullptr;
      if (stopping_) return;
    }
    if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE ||
        status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      need_list = true;  // history gone or fell behind: start over from a fresh list
      continue;
    }
    options_.logger->Warn("agent", absl::StrCat("watch ended (", status.error_message(), "); resuming from revision ",
                                                desired_.revision()));
    if (!Pause(backoff)) return;
    backoff = std::min(backoff * 2, absl::Seconds(5));
  }
}

absl::Status ControllerLink::UpdateContainerStatus(const std::string& name, const v1::ContainerStatus& status) {
  v1::Object object;
  object.mutable_container()->mutable_metadata()->set_name(name);
  *object.mutable_container()->mutable_status() = status;
  return UpdateStatus(object);
}

absl::Status ControllerLink::UpdateVolumeStatus(const std::string& name, const v1::VolumeStatus& status) {
  v1::Object object;
  object.mutable_volume()->mutable_metadata()->set_name(name);
  *object.mutable_volume()->mutable_status() = status;
  return UpdateStatus(object);
}

absl::Status ControllerLink::UpdateStatus(const v1::Object& object) {
  v1::UpdateStatusRequest request;
  *request.mutable_object() = object;
  v1::Object response;
  auto context = CallContext();
  return FromGrpcStatus(controller_->UpdateStatus(context.get(), request, &response));
}

absl::Status ControllerLink::ReleaseFinalizer(const std::string& kind, const std::string& name,
                                              const std::string& finalizer) {
  v1::ReleaseFinalizerRequest request;
  request.set_kind(kind);
  request.set_name(name);
  request.set_finalizer(finalizer);
  request.set_node_name(options_.node_name);
  v1::Object response;
  auto context = CallContext();
  return FromGrpcStatus(agent_->ReleaseFinalizer(context.get(), request, &response));
}

}  // namespace opctl::agent
