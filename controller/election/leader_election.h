// Leader election through etcd's Election service: a lease kept alive every ttl/3, a Campaign that
// returns once this process's key has the lowest create revision under the election's name. While
// the lease is sure to be alive this process leads and is given the fence (the leader key and its
// create revision) its writes carry; when a renewal is late enough that the lease may have expired,
// or etcd says it did, leadership is given up at once and a new campaign begins. Timing only decides
// when this process stops trying: the fence is what keeps a deposed leader's writes out.
//
// Thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/logger.h"
#include "controller/store/etcd_client.h"
#include "controller/store/store.h"

namespace opctl::controller {

struct LeaderElectionOptions {
  std::string name = "/opctl/leader";  // the election's key prefix in etcd
  std::string identity;                // what the leader key holds: this controller's address
  // etcd rounds a shorter TTL up to its minimum (about 1.5 s with its default timing).
  absl::Duration lease_ttl = absl::Seconds(2);
  Logger* logger = &Logger::Stderr();
};

class LeaderElection {
 public:
  // `changed` gets the fence on winning and nullopt on losing (from the election's thread, in order).
  using Changed = std::function<void(std::optional<Fence>)>;
  LeaderElection(EtcdClient& client, LeaderElectionOptions options, Changed changed);
  ~LeaderElection();  // resigns if leading, so another takes over at once

  void Start();
  bool leading() const;
  // The identity in the current leader's key (empty when none or unknown).
  std::string Leader() const;

 private:
  void Run();
  // One term: a lease, a campaign on it, then leading until the lease may be gone or Stop.
  absl::Status Term();
  absl::StatusOr<int64_t> GrantLease();
  // Waits until this process leads on `lease` (its fence) or the term ends first (none).
  absl::StatusOr<std::optional<Fence>> Campaign(int64_t lease);
  // Leads until the lease may have expired or Stop, telling `changed_` both ends.
  void Lead(const Fence& fence);
  // Renews `lease` every ttl/3, moving lease_valid_until_ on, until the lease expired or may have, or
  // the term ends.
  void KeepAlive(int64_t lease);
  bool TermOver() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);
  void Log(absl::string_view message) { options_.logger->Log("election", message); }

  EtcdClient& client_;
  const LeaderElectionOptions options_;
  const Changed changed_;
  mutable absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  bool lease_lost_ ABSL_GUARDED_BY(mutex_) = false;
  absl::Time lease_valid_until_ ABSL_GUARDED_BY(mutex_);
  std::optional<Fence> fence_ ABSL_GUARDED_BY(mutex_);
  grpc::ClientContext* campaign_ ABSL_GUARDED_BY(mutex_) = nullptr;  // to cancel a waiting campaign
  std::thread thread_;
};

}  // namespace opctl::controller
