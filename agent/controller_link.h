// The agent's side of the agent <-> controller protocol (proto/opctl/v1/agent.proto): heartbeats,
// list-then-watch of what is bound to this node into DesiredState (resuming from the last revision
// after a break, relisting when that history is gone), and status reports.
//
// Thread-safe; two background threads (heartbeat, watch). UpdateContainerStatus and
// ReleaseFinalizer are called from reconcile workers.
#pragma once

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/desired_state.h"
#include "agent/fence.h"
#include "agent/peer_witness.h"
#include "agent/status_sink.h"
#include "common/latency_histogram.h"
#include "common/logger.h"
#include "grpcpp/grpcpp.h"
#include "opctl/v1/agent.grpc.pb.h"
#include "opctl/v1/controller.grpc.pb.h"

namespace opctl::agent {

struct ControllerLinkOptions {
  std::string node_name;
  std::map<std::string, std::string> labels;
  absl::Duration heartbeat_interval = absl::Milliseconds(300);
  // The Volumes whose data this node holds, reported with every heartbeat (may be empty).
  std::function<std::vector<std::string>()> volumes_held = nullptr;
  // Asked before the lease lapses whether most nodes lost the controller too (not owned; may be null:
  // then a lapsing lease always fences).
  PeerWitness* witness = nullptr;
  Logger* logger = &Logger::Stderr();  // not owned
};

class ControllerLink : public StatusSink {
 public:
  using Enqueue = std::function<void(const std::vector<std::string>& keys)>;
  using Resync = std::function<void()>;

  // `resync` runs when the fence changes what may run here: its lease lapsed or came back, or a
  // heartbeat brought bindings newer than the desired state.
  ControllerLink(std::shared_ptr<grpc::Channel> channel, DesiredState& desired, Fence& fence, Enqueue enqueue,
                 Resync resync, ControllerLinkOptions options);
  ~ControllerLink() override;  // stops

  // Starts heartbeating with `node` (capacity and versions filled in) and watching.
  void Start(const v1::Node& node);

  absl::Status UpdateContainerStatus(const std::string& name, const v1::ContainerStatus& status) override;
  absl::Status ReleaseFinalizer(const std::string& kind, const std::string& name,
                                const std::string& finalizer) override;
  absl::Status UpdateVolumeStatus(const std::string& name, const v1::VolumeStatus& status);
  // Round trips of the heartbeats answered (for metrics).
  const LatencyHistogram& heartbeats() const { return heartbeats_; }

 private:
  absl::Status UpdateStatus(const v1::Object& object);
  void HeartbeatLoop(v1::Node node);
  void WatchLoop();
  // The node's whole desired state, page by page; the revision is the first page's.
  grpc::Status ListAll(v1::ListResponse* response);
  // Notices the fence's lease lapsing or coming back; asks the witnesses first whether to hold it.
  void FenceLoop();
  // Holds the fence while most nodes lost the controller (asked just before the lease lapses, then
  // every heartbeat interval), else lets it lapse.
  // `holding` says whether the fence is held now, and is updated.
  void AskWitnesses(bool& holding);
  // Sleeps up to `duration`, returning early (false) when stopping.
  bool Pause(absl::Duration duration);

  std::unique_ptr<v1::Controller::Stub> controller_;
  std::unique_ptr<v1::Agent::Stub> agent_;
  DesiredState& desired_;
  Fence& fence_;
  Enqueue enqueue_;
  Resync resync_;
  const ControllerLinkOptions options_;

  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  grpc::ClientContext* watch_context_ ABSL_GUARDED_BY(mutex_) = nullptr;
  LatencyHistogram heartbeats_;
  std::thread heartbeat_thread_;
  std::thread watch_thread_;
  std::thread fence_thread_;
};

}  // namespace opctl::agent
