// Heartbeats across controllers without a write per heartbeat. Agents heartbeat to whichever
// controller they reach; that controller keeps them in memory (NodeMonitor) and, every interval,
// puts one key in etcd (PREFIX/IDENTITY) listing the nodes it heard lately. The leader reads those
// keys every interval and takes every node in a key that changed since as heard. 1,000 agents on
// three controllers are then about six small writes a second, not 3,000. A controller no agent
// talks to still says it is there every few intervals: the keys are also the list of controllers.
//
// Thread-safe.
#pragma once

#include <map>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "common/logger.h"
#include "controller/election/leader_election.h"
#include "controller/node_monitor.h"
#include "controller/store/etcd_client.h"

namespace opctl::controller {

struct HeartbeatRelayOptions {
  std::string prefix = "/opctl/heartbeats/";
  std::string identity;  // this controller's key under the prefix
  absl::Duration interval = absl::Milliseconds(500);
  Logger* logger = &Logger::Stderr();
};

class HeartbeatRelay {
 public:
  HeartbeatRelay(EtcdClient& client, NodeMonitor& monitor, const LeaderElection& election,
                 HeartbeatRelayOptions options);
  ~HeartbeatRelay();
  void Start();

  struct Member {
    std::string identity;
    int nodes_heard = 0;
    absl::Duration since_seen;  // by this machine's clock against the one that wrote it
  };
  // Every controller that published, this one included.
  absl::StatusOr<std::vector<Member>> Members() const;

 private:
  void Run();
  // This controller's nodes, heard in the last two intervals, as one key.
  void Publish(int64_t sequence);
  // The leader: every other controller's key that changed since it last looked.
  void Collect();

  EtcdClient& client_;
  NodeMonitor& monitor_;
  const LeaderElection& election_;
  const HeartbeatRelayOptions options_;
  std::map<std::string, int64_t> seen_;  // key -> mod revision last collected (the thread's own)
  int64_t last_empty_publication_ = -100;
  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
};

}  // namespace opctl::controller
