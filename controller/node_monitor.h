// Node lifecycle: heartbeats register Nodes and keep them Ready; a Node silent for longer than the
// grace becomes NotReady (reason NodeStatusUnknown). Heartbeat times live in memory; the Node object
// is written only when it changes, and its lastHeartbeat at most every `heartbeat_write_interval`.
//
// Thread-safe. A background thread checks for silent nodes every grace/25 (100 ms by default).
#pragma once

#include <map>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "controller/registry.h"

namespace opctl::controller {

// The Ready=False reasons: the node went silent (it may still run containers), or its agent is known
// to have stopped after its fence guard removed the containers that may move.
inline constexpr char kNodeSilentReason[] = "NodeStatusUnknown";
inline constexpr char kAgentGoneReason[] = "AgentStopped";

struct NodeMonitorOptions {
  absl::Duration grace = absl::Milliseconds(2500);
  absl::Duration heartbeat_write_interval = absl::Seconds(10);
};

class NodeMonitor {
 public:
  NodeMonitor(Registry& registry, Clock& clock, NodeMonitorOptions options = {});
  ~NodeMonitor();

  void Start();
  // Records a heartbeat from `reported` (name, labels, capacity, versions). Writes the Node when it is
  // new, changed, was NotReady, or its stored heartbeat is old. Blocks until written.
  absl::Status Heartbeat(const v1::Node& reported);
  // The fence guard of `node` reports its agent dead and `removed` gone from its dockerd: NotReady
  // at once, with reason kAgentGoneReason.
  absl::Status AgentGone(const std::string& node, const std::vector<std::string>& removed);
  // Marks every node silent for longer than the grace NotReady. Public for tests.
  void CheckNodes();
  absl::Duration grace() const { return options_.grace; }
  // Nodes that have heartbeated since the controller started or were registered before.
  int KnownNodes();

 private:
  absl::Status Write(v1::Object object);
  absl::Status MarkNotReady(v1::Object node, const std::string& reason, const std::string& message, absl::Time now);

  Registry& registry_;
  Clock& clock_;
  const NodeMonitorOptions options_;
  absl::Mutex mutex_;
  std::map<std::string, absl::Time> last_heartbeat_ ABSL_GUARDED_BY(mutex_);
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread checker_;
};

}  // namespace opctl::controller
