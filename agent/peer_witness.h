// The witnesses an agent asks before it fences: when its lease is about to lapse, it asks every other
// registered node's agent (Peer.Lease, on their operations address) whether it still reaches the
// controller. When this node and the peers that answered "no" are a disruption by the rule the
// controller applies too (common/disruption.h), the controller moves nothing, so the fence is held;
// any other answer, or none, means fencing as before. Only answers count: a peer that cannot be
// reached proves nothing, so the doubt always falls on the side of stopping.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "common/tls.h"
#include "opctl/v1/agent.grpc.pb.h"

namespace opctl::agent {

class PeerWitness {
 public:
  // Calls peers with this node's certificate (`tls`; plaintext when tls.ca is empty) and expects each
  // to show its own node's certificate.
  PeerWitness(std::string node_name, TlsFiles tls) : node_name_(std::move(node_name)), tls_(std::move(tls)) {}

  // The other registered nodes, as a heartbeat answer listed them, and that list's version.
  void SetPeers(const std::vector<v1::PeerNode>& peers, int64_t version);
  int64_t peers_version() const;

  // Asks every peer at once, each within `timeout`; true when most registered nodes (this one, which
  // lost the controller, and the peers that answered that they did too) are out of contact.
  bool MostLostTheController(absl::Duration timeout);

 private:
  v1::Peer::Stub* StubFor(const v1::PeerNode& peer) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mutex_);

  const std::string node_name_;
  const TlsFiles tls_;
  mutable absl::Mutex mutex_;
  std::vector<v1::PeerNode> peers_ ABSL_GUARDED_BY(mutex_);
  int64_t version_ ABSL_GUARDED_BY(mutex_) = 0;
  std::map<std::string, std::unique_ptr<v1::Peer::Stub>> stubs_ ABSL_GUARDED_BY(mutex_);  // by name@address
};

}  // namespace opctl::agent
