// One opctl-agent: wires the Docker client, the controller link, the desired state, the reconciler,
// the work queue with its workers, the Docker event watcher and the periodic resync.
//
// Thread-safe; Start spawns the threads, the destructor stops them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "agent/backup_scheduler.h"
#include "agent/controller_link.h"
#include "agent/desired_state.h"
#include "agent/docker_client.h"
#include "agent/docker_events.h"
#include "agent/event_reporter.h"
#include "agent/operations_service.h"
#include "agent/overlay/netlink_dataplane.h"
#include "agent/peer_service.h"
#include "agent/peer_witness.h"
#include "agent/reconciler.h"
#include "agent/volume_archiver.h"
#include "agent/volume_locks.h"
#include "common/logger.h"
#include "common/tls.h"
#include "common/work_queue.h"

namespace opctl::agent {

struct AgentOptions {
  std::string controller_address;
  // Where every loop of the agent says what happened (not owned).
  Logger* logger = &Logger::Stderr();
  // TLS to the controller: its CA, and this node's certificate and key (CN = node name). An empty
  // `tls.ca` means plaintext (the agent's --insecure).
  TlsFiles tls;
  std::string node_name;
  std::map<std::string, std::string> labels;
  absl::Duration heartbeat_interval = absl::Milliseconds(300);
  absl::Duration resync_interval = absl::Seconds(30);
  absl::Duration unhealthy_restart_after = absl::Seconds(30);
  int workers = 8;
  PullPolicy pull_policy = PullPolicy::kExplicitRegistry;
  // Where this agent serves opctl.v1.Operations (port 0: any free port) and the address it tells the
  // controller (default: the listen host with the bound port).
  std::string listen_address = "127.0.0.1:0";
  std::string advertise_address;
  // The IPv4 address the other nodes reach this node's VXLAN endpoint on (agent/overlay/), so that
  // Networks span them: "auto" takes the advertised host when it is an IPv4 address beyond loopback;
  // "none" (or auto finding none) keeps this node's containers reachable from this node only.
  std::string overlay_address = "auto";
  std::string helper_image = "opctl/toolbox:0.1";
  std::string backup_dir = "/var/lib/opctl/backups";
  std::string run_dir = "/run/opctl-agent";  // the fence guard's pid file
  // Limits of day-2 operations (see VolumeArchiverOptions and common/stream_watchdog.h).
  absl::Duration pre_backup_timeout = absl::Minutes(10);
  absl::Duration restore_timeout = absl::Hours(1);
  int64_t max_restore_bytes = int64_t{64} << 30;
  absl::Duration stream_write_timeout = absl::Seconds(60);
  // Hears each new fencing deadline (the FenceGuard's Publish); may be empty.
  std::function<void(absl::Time)> publish_fence_deadline;
};

class Agent {
 public:
  Agent(DockerClient& docker, AgentOptions options);
  ~Agent();

  // Reads the host's capacity from Docker (waiting for dockerd to answer) and starts everything.
  absl::Status Start();

  // What the agent does, for metrics; valid once Start has succeeded.
  const OutcomeStats& work() const { return work_; }
  size_t QueueLength() const { return queue_.Length(); }
  const HealCounts& heals() const { return reconciler_->heals(); }
  uint64_t docker_events_seen() const { return events_->seen(); }
  const LatencyHistogram& heartbeats() const { return link_->heartbeats(); }
  // Until this node's lease lapses (negative: lapsed).
  absl::Duration LeaseRemaining() const { return fence_.Deadline() - absl::Now(); }
  const OutcomeStats& backups() const { return backups_->runs(); }
  uint64_t bytes_archived() const { return backups_->bytes_archived(); }

 private:
  // Start's steps: the volume archiver (its leftover helpers removed), the operations port, and the
  // reconciler with the link to the controller that feeds it.
  void StartArchiver();
  absl::StatusOr<std::string> ServeOperations();
  absl::Status MakeReconcilerAndLink();
  // The overlay on the address `overlay_address` resolves to (given the advertised address); the
  // address, or empty when the overlay is off.
  std::string StartOverlay(const std::string& advertised);
  void Enqueue(const std::vector<std::string>& keys);
  void ResyncAll();
  void Work();

  DockerClient& docker_;
  const AgentOptions options_;
  DesiredState desired_;
  Fence fence_;
  // A failed key is retried after 250 ms, doubling to 30 s, without holding up other keys.
  WorkQueue queue_{Clock::Real(), std::make_unique<ExponentialBackoff>(absl::Milliseconds(250), absl::Seconds(30))};
  std::unique_ptr<EventReporter> event_reporter_;  // before what reports through it
  std::unique_ptr<ControllerLink> link_;
  std::unique_ptr<NetlinkDataplane> dataplane_;
  std::unique_ptr<Overlay> overlay_;
  std::unique_ptr<Reconciler> reconciler_;
  std::unique_ptr<DockerEventWatcher> events_;
  VolumeLocks volume_locks_;
  std::unique_ptr<VolumeArchiver> archiver_;
  std::unique_ptr<OperationsService> operations_;
  std::unique_ptr<PeerService> peer_service_;
  std::unique_ptr<PeerWitness> witness_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<BackupScheduler> backups_;
  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::vector<std::thread> workers_;
  std::thread resync_thread_;
  std::vector<std::string> log_drivers_;  // what this node's dockerd offers, from its /info at Start
  OutcomeStats work_;                     // the workers' reconcile passes
};

}  // namespace opctl::agent
