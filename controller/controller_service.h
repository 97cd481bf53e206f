// The gRPC edge of the controller: opctl.v1.Controller on the callback API. Thin: it converts
// between the wire and the Registry/WatchHub and never blocks a gRPC thread (writes finish from the
// store's callback; each watch is a reactor with its own queue and one write in flight).
#pragma once

#include <atomic>
#include <cstddef>
#include <functional>
#include <map>
#include <string>

#include "absl/synchronization/mutex.h"
#include "controller/authorizer.h"
#include "controller/control_plane_view.h"
#include "controller/registry.h"
#include "controller/watch_hub.h"
#include "opctl/v1/controller.grpc.pb.h"

namespace opctl::controller {

struct ControllerServiceOptions {
  // A watcher more than this many events, or this many bytes of them, behind is ended with
  // RESOURCE_EXHAUSTED and must relist.
  size_t max_watch_backlog = 100000;
  size_t max_watch_backlog_bytes = 64 << 20;
  // Watches one caller (a user by token, an agent by certificate; without authentication, a client
  // address) may hold open at once, over all its connections; more are refused with RESOURCE_EXHAUSTED.
  int max_watches_per_caller = 1024;
};

// What the Watch streams do, for metrics; updated lock-free by every stream.
struct WatchStats {
  std::atomic<int64_t> open{0};
  std::atomic<uint64_t> events_sent{0};    // BOOKMARKs too
  std::atomic<int64_t> backlog_events{0};  // queued for writing, over every stream
  std::atomic<uint64_t> cut_off{0};        // ended for falling behind
};

class ControllerService final : public v1::Controller::CallbackService {
 public:
  ControllerService(Registry& registry, WatchHub& hub, const Authorizer& authorizer,
                    ControllerServiceOptions options = {})
      : registry_(registry), hub_(hub), authorizer_(authorizer), options_(options) {}

  grpc::ServerUnaryReactor* Apply(grpc::CallbackServerContext* context, const v1::ApplyRequest* request,
                                  v1::ApplyResponse* response) override;
  grpc::ServerUnaryReactor* Get(grpc::CallbackServerContext* context, const v1::GetRequest* request,
                                v1::Object* response) override;
  grpc::ServerUnaryReactor* List(grpc::CallbackServerContext* context, const v1::ListRequest* request,
                                 v1::ListResponse* response) override;
  grpc::ServerUnaryReactor* Delete(grpc::CallbackServerContext* context, const v1::DeleteRequest* request,
                                   v1::DeleteResponse* response) override;
  grpc::ServerWriteReactor<v1::WatchEvent>* Watch(grpc::CallbackServerContext* context,
                                                  const v1::WatchRequest* request) override;
  grpc::ServerUnaryReactor* UpdateStatus(grpc::CallbackServerContext* context, const v1::UpdateStatusRequest* request,
                                         v1::Object* response) override;
  grpc::ServerUnaryReactor* Scale(grpc::CallbackServerContext* context, const v1::ScaleRequest* request,
                                  v1::Object* response) override;
  grpc::ServerUnaryReactor* Cordon(grpc::CallbackServerContext* context, const v1::CordonRequest* request,
                                   v1::Object* response) override;
  grpc::ServerUnaryReactor* Evict(grpc::CallbackServerContext* context, const v1::EvictRequest* request,
                                  v1::Object* response) override;
  grpc::ServerUnaryReactor* ListControllers(grpc::CallbackServerContext* context,
                                            const v1::ListControllersRequest* request,
                                            v1::ListControllersResponse* response) override;
  // Set once the process knows its control plane (after it listens: its address is its identity).
  void SetControlPlaneView(const ControlPlaneView* view) { view_ = view; }

  const WatchStats& watch_stats() const { return watch_stats_; }

 private:
  // The status to finish with unless `check` allows the caller of `context`.
  absl::Status Authorize(const grpc::CallbackServerContext& context,
                         const std::function<absl::Status(const Caller&)>& check) const;
  std::function<absl::Status(const Caller&)> ForRole(Role role, const std::string& action) const;
  // Users with role view; an agent only for its own node.
  absl::Status ReadForNode(const Caller& caller, const std::string& node_name, const std::string& action) const;
  // Who may write the status of `object`: agents for their node's Containers and Node, and for the
  // Volumes their node holds; users with role admin. The gate re-checks a Container's node on each
  // attempt of the write.
  absl::StatusOr<Registry::StatusGate> StatusWriter(const Caller& caller, const v1::Object& object) const;

  Registry& registry_;
  WatchHub& hub_;
  const Authorizer& authorizer_;
  const ControllerServiceOptions options_;
  WatchStats watch_stats_;
  std::atomic<const ControlPlaneView*> view_ = nullptr;
  absl::Mutex watches_mutex_;
  std::map<std::string, int> watches_by_caller_ ABSL_GUARDED_BY(watches_mutex_);
};

// An absl::Status as gRPC sends it; Apply's validation errors travel in the details as ApplyErrors.
grpc::Status ToWireStatus(const absl::Status& status);

}  // namespace opctl::controller
