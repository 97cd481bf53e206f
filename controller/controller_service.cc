#include "controller/controller_service.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/api_names.h"
#include "common/grpc_status.h"
#include "common/object.h"
#include "common/quote.h"
#include "common/version.h"
#include "controller/watch_filter.h"

namespace opctl::controller {
namespace {

// Answers a unary call from a Registry callback: copy the value, finish with the status.
template <typename T>
std::function<void(absl::StatusOr<T>)> FinishWith(grpc::ServerUnaryReactor* reactor, T* response) {
  return [reactor, response](absl::StatusOr<T> result) {
    if (result.ok()) *response = *std::move(result);
    reactor->Finish(ToWireStatus(result.status()));
  };
}

// One Watch stream: the hub's sink queues events, and the reactor writes them one at a time.
class WatchReactor : public grpc::ServerWriteReactor<v1::WatchEvent> {
 public:
  // `on_done` runs once the stream is over, whatever ended it.
  WatchReactor(WatchHub& hub, const v1::WatchRequest& request, size_t max_backlog, size_t max_backlog_bytes,
               WatchStats& stats, std::function<void()> on_done)
      : max_backlog_(max_backlog), max_backlog_bytes_(max_backlog_bytes), stats_(stats), on_done_(std::move(on_done)) {
    stats_.open.fetch_add(1);
    absl::StatusOr<WatchFilter> filter = WatchFilter::Create(request);
    if (!filter.ok()) {
      Finish(ToWireStatus(filter.status()));
      return;
    }
    filter_ = *std::move(filter);
    // The state outlives the reactor: the hub may call the sink until it declines once.
    auto state = state_;
    absl::StatusOr<uint64_t> id = hub.Subscribe(request.resource_version(),
                                                [this, state](const std::vector<ChangePtr>& changes, int64_t revision) {
                                                  absl::MutexLock lock(&state->mutex);
                                                  if (state->done) return false;
                                                  return OnChanges(changes, revision);
                                                });
    if (!id.ok()) {
      absl::MutexLock lock(&state_->mutex);
      FinishLocked(ToWireStatus(id.status()));
    }
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&state_->mutex);
    writing_ = false;
    if (!ok) return FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "watch stream broken"));
    WriteNextLocked();
  }

  void OnCancel() override {
    absl::MutexLock lock(&state_->mutex);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    {
      absl::MutexLock lock(&state_->mutex);
      state_->done = true;
      stats_.backlog_events.fetch_sub(static_cast<int64_t>(queue_.size()));
    }
    stats_.open.fetch_sub(1);
    on_done_();
    delete this;
  }

 private:
  struct State {
    absl::Mutex mutex;
    bool done = false;  // the reactor is gone; the sink must decline
  };

  bool OnChanges(const std::vector<ChangePtr>& changes, int64_t revision) {
    state_->mutex.AssertHeld();
    if (finished_) return false;
    if (changes.empty()) {
      // A bookmark is only worth sending when the watcher is idle.
      if (queue_.empty() && !writing_) {
        v1::WatchEvent bookmark;
        bookmark.set_type(v1::WatchEvent::BOOKMARK);
        bookmark.set_revision(revision);
        queue_.push_back(std::move(bookmark));
        stats_.backlog_events.fetch_add(1);
      }
    }
    for (const ChangePtr& change : changes) {
      if (std::optional<v1::WatchEvent> event = filter_.ToEvent(*change)) {
        queued_bytes_ += event->ByteSizeLong();
        queue_.push_back(*std::move(event));
        stats_.backlog_events.fetch_add(1);
      }
    }
    if (queue_.size() > max_backlog_ || queued_bytes_ > max_backlog_bytes_) {
      FinishLocked(
          grpc::Status(grpc::StatusCode::RESOURCE_EXHAUSTED,
                       absl::StrCat("watcher fell behind by more than ",
                                    queue_.size() > max_backlog_ ? absl::StrCat(max_backlog_, " events")
                                                                 : absl::StrCat(max_backlog_bytes_ >> 20, " MiB"),
                                    "; list again and watch from the list's revision")));
      stats_.cut_off.fetch_add(1);
      stats_.backlog_events.fetch_sub(static_cast<int64_t>(queue_.size()));
      queue_.clear();  // what it would have read is dropped now, not when the stream is done
      queued_bytes_ = 0;
      return false;
    }
    WriteNextLocked();
    return true;
  }

  void WriteNextLocked() {
    state_->mutex.AssertHeld();
    if (writing_ || finished_ || queue_.empty()) return;
    current_ = std::move(queue_.front());
    queue_.pop_front();
    stats_.backlog_events.fetch_sub(1);
    stats_.events_sent.fetch_add(1, std::memory_order_relaxed);
    queued_bytes_ -= std::min(queued_bytes_, current_.ByteSizeLong());
    writing_ = true;
    StartWrite(&current_);
  }

  void FinishLocked(const grpc::Status& status) {
    state_->mutex.AssertHeld();
    if (finished_) return;
    finished_ = true;
    Finish(status);
  }

  const size_t max_backlog_;
  const size_t max_backlog_bytes_;
  WatchStats& stats_;
  const std::function<void()> on_done_;
  WatchFilter filter_;
  std::shared_ptr<State> state_ = std::make_shared<State>();
  // Guarded by state_->mutex.
  std::deque<v1::WatchEvent> queue_;
  size_t queued_bytes_ = 0;
  v1::WatchEvent current_;
  bool writing_ = false;
  bool finished_ = false;
};

// A watch refused before it started.
class RefusedWatch : public grpc::ServerWriteReactor<v1::WatchEvent> {
 public:
  explicit RefusedWatch(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::Status ToWireStatus(const absl::Status& status) {
  grpc::Status wire = ToGrpcStatus(status);
  std::vector<v1::FieldError> errors = ApplyErrorsOf(status);
  if (errors.empty()) return wire;
  v1::ApplyErrors details;
  for (v1::FieldError& error : errors) *details.add_errors() = std::move(error);
  return grpc::Status(wire.error_code(), wire.error_message(), details.SerializeAsString());
}

absl::Status ControllerService::Authorize(const grpc::CallbackServerContext& context,
                                          const std::function<absl::Status(const Caller&)>& check) const {
  absl::StatusOr<Caller> caller = authorizer_.Identify(context);
  return caller.ok() ? check(*caller) : caller.status();
}

std::function<absl::Status(const Caller&)> ControllerService::ForRole(Role role, const std::string& action) const {
  return [this, role, action](const Caller& caller) { return authorizer_.RequireRole(caller, role, action); };
}

absl::Status ControllerService::ReadForNode(const Caller& caller, const std::string& node_name,
                                            const std::string& action) const {
  if (!caller.agent) return authorizer_.RequireRole(caller, Role::kView, action);
  // An agent sees what its node runs: it must ask for its own node.
  return authorizer_.RequireAgentOf(caller, node_name, absl::StrCat(action, " objects"));
}

absl::StatusOr<Registry::StatusGate> ControllerService::StatusWriter(const Caller& caller,
                                                                     const v1::Object& object) const {
  if (!caller.agent) {
    absl::Status allowed = authorizer_.RequireRole(caller, Role::kAdmin, "write status");
    if (!allowed.ok()) return allowed;
    return Registry::StatusGate();
  }
  const std::string kind = KindOf(object);
  const std::string& name = MetaOf(object).name();
  const Authorizer& authorizer = authorizer_;
  Caller agent = caller;
  if (kind == kKindContainer) {
    // Checked on the container as the write finds it, so a rebinding in between is refused.
    return Registry::StatusGate([&authorizer, agent, name](const v1::Object& stored) {
      return authorizer.RequireAgentOf(agent, stored.container().spec().node_name(),
                                       absl::StrCat("write the status of ", DisplayName("Container", name)));
    });
  }
  if (kind == kKindNode) {
    absl::Status allowed = authorizer_.RequireAgentOf(caller, name, "write the status of its Node");
    if (!allowed.ok()) return allowed;
    return Registry::StatusGate();
  }
  if (kind == kKindVolume) {
    // Only a node that holds the volume's data (its Node status says so) reports on it, and only on its
    // own backups.
    for (const v1::VolumeBackupRun* run :
         {&object.volume().status().last_backup(), &object.volume().status().last_successful_backup()}) {
      if (!run->node_name().empty() && run->node_name() != caller.name) {
        return absl::PermissionDeniedError(
            absl::StrCat("the agent of node ", caller.name, " may not report a backup run by node ", run->node_name()));
      }
    }
    std::optional<v1::Object> node = registry_.Find(kKindNode, caller.name);
    const auto* held = node ? &node->node().status().volumes() : nullptr;
    if (held == nullptr || std::find(held->begin(), held->end(), name) == held->end()) {
      return absl::PermissionDeniedError(absl::StrCat("the agent of node ", caller.name,
                                                      " may not write the status of ", DisplayName("Volume", name),
                                                      ": its node does not hold that volume"));
    }
    return Registry::StatusGate();
  }
  return absl::PermissionDeniedError(absl::StrCat("agents may not write the status of a ", kind));
}

grpc::ServerUnaryReactor* ControllerService::Apply(grpc::CallbackServerContext* context,
                                                   const v1::ApplyRequest* request, v1::ApplyResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = Authorize(*context, ForRole(Role::kEdit, "apply")); !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  registry_.Apply({request->objects().begin(), request->objects().end()}, request->dry_run(),
                  FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ControllerService::Get(grpc::CallbackServerContext* context, const v1::GetRequest* request,
                                                 v1::Object* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = Authorize(*context, ForRole(Role::kView, "get")); !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  // A store that lost touch with etcd says so rather than answer what may be stale as current.
  if (absl::Status current = registry_.store().ReadsCurrent(); !current.ok()) {
    reactor->Finish(ToWireStatus(current));
    return reactor;
  }
  FinishWith(reactor, response)(registry_.Get(request->kind(), request->name()));
  return reactor;
}

grpc::ServerUnaryReactor* ControllerService::List(grpc::CallbackServerContext* context, const v1::ListRequest* request,
                                                  v1::ListResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed =
          Authorize(*context, [&](const Caller& caller) { return ReadForNode(caller, request->node_name(), "list"); });
      !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  if (absl::Status current = registry_.store().ReadsCurrent(); !current.ok()) {
    reactor->Finish(ToWireStatus(current));
    return reactor;
  }
  // What an agent sees, and a field selector: the same filter as a watch's.
  std::optional<WatchFilter> node_filter;
  if (!request->node_name().empty() || !request->field_selector().empty()) {
    v1::WatchRequest as_watch;
    as_watch.set_kind(request->kind());
    as_watch.set_node_name(request->node_name());
    as_watch.set_field_selector(request->field_selector());
    absl::StatusOr<WatchFilter> filter = WatchFilter::Create(as_watch);
    if (!filter.ok()) {
      reactor->Finish(ToWireStatus(filter.status()));
      return reactor;
    }
    node_filter = *std::move(filter);
  }
  absl::StatusOr<v1::ListResponse> list = registry_.ListPage(
      request->kind(), request->stack(), request->label_selector(), request->limit(), request->continue_(),
      node_filter ? std::function<bool(const v1::Object&)>(
                        [&node_filter](const v1::Object& object) { return node_filter->Matches(object); })
                  : nullptr);
  FinishWith(reactor, response)(std::move(list));
  return reactor;
}

grpc::ServerUnaryReactor* ControllerService::Delete(grpc::CallbackServerContext* context,
                                                    const v1::DeleteRequest* request, v1::DeleteResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = Authorize(*context, ForRole(Role::kEdit, "delete")); !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  registry_.Delete(*request, FinishWith(reactor, response));
  return reactor;
}

grpc::ServerWriteReactor<v1::WatchEvent>* ControllerService::Watch(grpc::CallbackServerContext* context,
                                                                   const v1::WatchRequest* request) {
  absl::StatusOr<Caller> caller = authorizer_.Identify(*context);
  absl::Status allowed = caller.ok() ? ReadForNode(*caller, request->node_name(), "watch") : caller.status();
  if (!allowed.ok()) return new RefusedWatch(ToWireStatus(allowed));
  // Counted per caller over all its connections, so more connections buy no more watches. Without
  // authentication every caller is "anonymous": the client's address (not its port) stands in.
  std::string who =
      caller->agent ? absl::StrCat("the agent of node ", caller->name) : absl::StrCat("user ", caller->name);
  if (!authorizer_.enforcing()) {
    std::string peer = context->peer();
    who = absl::StrCat("client ", peer.substr(0, peer.rfind(':')));
  }
  {
    absl::MutexLock lock(&watches_mutex_);
    int& open = watches_by_caller_[who];
    if (open >= options_.max_watches_per_caller) {
      return new RefusedWatch(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat(Clip(who), " already has ", open, " watches open, the most the controller allows one caller ",
                       "(--max-watches-per-caller); end one first")));
    }
    ++open;
  }
  return new WatchReactor(hub_, *request, options_.max_watch_backlog, options_.max_watch_backlog_bytes, watch_stats_,
                          [this, who] {
                            absl::MutexLock lock(&watches_mutex_);
                            if (--watches_by_caller_[who] == 0) watches_by_caller_.erase(who);
                          });
}

grpc::ServerUnaryReactor* ControllerService::UpdateStatus(grpc::CallbackServerContext* context,
                                                          const v1::UpdateStatusRequest* request,
                                                          v1::Object* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Caller> caller = authorizer_.Identify(*context);
  absl::StatusOr<Registry::StatusGate> gate =
      caller.ok() ? StatusWriter(*caller, request->object()) : absl::StatusOr<Registry::StatusGate>(caller.status());
  if (!gate.ok()) {
    reactor->Finish(ToWireStatus(gate.status()));
    return reactor;
  }
  registry_.UpdateStatus(request->object(), request->expected_resource_version(), *std::move(gate),
                         FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ControllerService::Scale(grpc::CallbackServerContext* context,
                                                   const v1::ScaleRequest* request, v1::Object* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = Authorize(*context, ForRole(Role::kEdit, "scale")); !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  registry_.Scale(request->name(), request->replicas(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ControllerService::Cordon(grpc::CallbackServerContext* context,
                                                    const v1::CordonRequest* request, v1::Object* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = Authorize(*context, ForRole(Role::kAdmin, "cordon or uncordon a node")); !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  registry_.Cordon(request->name(), request->unschedulable(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ControllerService::Evict(grpc::CallbackServerContext* context,
                                                   const v1::EvictRequest* request, v1::Object* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = Authorize(*context, ForRole(Role::kAdmin, "evict (drain)")); !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  registry_.Evict(request->name(), FinishWith(reactor, response));
  return reactor;
}

grpc::ServerUnaryReactor* ControllerService::ListControllers(grpc::CallbackServerContext* context,
                                                             const v1::ListControllersRequest*,
                                                             v1::ListControllersResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::Status allowed = Authorize(*context, ForRole(Role::kView, "list controllers")); !allowed.ok()) {
    reactor->Finish(ToWireStatus(allowed));
    return reactor;
  }
  const ControlPlaneView* view = view_;
  if (view == nullptr) {
    reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the controller is starting"));
    return reactor;
  }
  absl::StatusOr<v1::ListControllersResponse> controllers = view->Controllers();
  if (controllers.ok()) controllers->set_version(OpctlVersion());
  FinishWith(reactor, response)(std::move(controllers));
  return reactor;
}

}  // namespace opctl::controller
