// Node lifecycle: heartbeats register Nodes and keep them Ready; a Node silent for longer than the
// grace becomes NotReady (reason NodeStatusUnknown). Heartbeat times live in memory; the Node object
// is written only when it changes, and its lastHeartbeat at most every `heartbeat_write_interval`.
//
// The control plane's own trouble is never taken for the nodes': a heartbeat is answered from memory
// and never waits on a disk write (the write follows in the background), and silence is read as the
// nodes' fault only when most nodes still talk. When more than half of the registered nodes are out of
// contact at once (silent or already NotReady: Kubernetes' zone disruption), or when the checker itself
// was stopped for longer than half a grace (the process was paused or starved), nobody is marked; once
// that ends, every node still silent gets a fresh grace.
//
// Thread-safe. The silence check is a Reconciler (key kNodeCheckKey) that asks to run again every
// grace/25 (100 ms by default); the manager runs it only while this process leads.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/api_names.h"
#include "common/clock.h"
#include "common/disruption.h"
#include "common/event_recorder.h"
#include "common/logger.h"
#include "controller/registry.h"
#include "controller/runtime/reconciler.h"

namespace opctl::controller {

struct NodeMonitorOptions {
  absl::Duration grace = absl::Milliseconds(2500);
  absl::Duration heartbeat_write_interval = absl::Seconds(10);
  // Hears Registered, NodeReady, NodeNotReady and Fenced (not owned).
  EventRecorder* events = &NoEvents::Instance();
};

inline constexpr char kNodeCheckKey[] = "silent-nodes";

class NodeMonitor : public Reconciler {
 public:
  // Heartbeats write through `registry`; the checker's NotReady marks through `leader_writes` when
  // given (the elected leader's fenced registry), else `registry` too.
  NodeMonitor(Registry& registry, Clock& clock, NodeMonitorOptions options = {}, Logger& logger = Logger::Stderr(),
              Registry* leader_writes = nullptr);

  // Nodes known from before a controller restart get one grace period to report in.
  void Start();
  // CheckNodes, then again after grace/25.
  absl::StatusOr<ReconcileResult> Reconcile(const std::string& key) override;
  // Records a heartbeat from `reported` (name, labels, capacity, versions, volumes held) and returns
  // at once: the Node is written in the background when it is new, changed, was NotReady, or its
  // stored heartbeat is old (a write that fails is logged and tried again on a later heartbeat).
  // INVALID_ARGUMENT when the report breaks ValidateNodeReport.
  absl::Status Heartbeat(const v1::Node& reported);
  // The fence guard of `node` reports its agent dead and `removed` gone from its dockerd: NotReady
  // at once, with reason kAgentGoneReason.
  absl::Status AgentGone(const std::string& node, const std::vector<std::string>& removed);
  // Marks every node silent for longer than the grace NotReady, unless that is a disruption (see
  // above). Public for tests.
  void CheckNodes();
  absl::Duration grace() const { return options_.grace; }
  // Nodes that have heartbeated since the controller started or were registered before.
  int KnownNodes();
  // With several controllers: the nodes whose agents heartbeated to this one since `since` (what it
  // relays to the leader), and heartbeats another controller relayed (taken as heard now).
  std::vector<std::string> HeardDirectlySince(absl::Time since);
  void Relayed(const std::vector<std::string>& nodes);

 private:
  absl::Status Write(Registry& registry, v1::Object object);
  // Starts writing `object` unless a write of that node is in flight (then the next heartbeat tries).
  void WriteInBackground(v1::Object object);
  // The Ready nodes silent for longer than the grace, with when each was last heard; `registered`
  // and `out_of_contact` (those and the NotReady ones) counted.
  std::vector<std::pair<v1::Object, absl::Time>> SilentNodes(absl::Time now, size_t* registered,
                                                             size_t* out_of_contact);
  absl::Status MarkNotReady(Registry& registry, v1::Object node, const std::string& reason, const std::string& message,
                            absl::Time now);

  Registry& registry_;
  Registry& leader_writes_;
  Clock& clock_;
  const NodeMonitorOptions options_;
  Logger& logger_;
  absl::Mutex mutex_;
  std::map<std::string, absl::Time> last_heartbeat_ ABSL_GUARDED_BY(mutex_);
  std::map<std::string, absl::Time> heard_directly_ ABSL_GUARDED_BY(mutex_);
  struct Writes;
  const std::shared_ptr<Writes> writes_;
  // The checker's own bookkeeping (CheckNodes runs on one thread at a time).
  absl::Mutex check_mutex_;
  absl::Time last_check_ ABSL_GUARDED_BY(check_mutex_) = absl::InfinitePast();
  bool disrupted_ ABSL_GUARDED_BY(check_mutex_) = false;
};

}  // namespace opctl::controller
