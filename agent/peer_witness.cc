#include "agent/peer_witness.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/disruption.h"
#include "grpcpp/grpcpp.h"

namespace opctl::agent {
namespace {

// One question to one peer; shared with its callback, which may run after the asker stopped waiting.
struct Question {
  grpc::ClientContext context;
  v1::LeaseRequest request;
  v1::LeaseResponse response;
};

// Counts answers; the asker waits until every callback came (each call has a deadline).
struct Tally {
  absl::Mutex mutex;
  size_t pending ABSL_GUARDED_BY(mutex) = 0;
  size_t lost ABSL_GUARDED_BY(mutex) = 0;
};

}  // namespace

void PeerWitness::SetPeers(const std::vector<v1::PeerNode>& peers, int64_t version) {
  absl::MutexLock lock(&mutex_);
  peers_ = peers;
  version_ = version;
}

int64_t PeerWitness::peers_version() const {
  absl::MutexLock lock(&mutex_);
  return version_;
}

v1::Peer::Stub* PeerWitness::StubFor(const v1::PeerNode& peer) {
  std::unique_ptr<v1::Peer::Stub>& stub = stubs_[absl::StrCat(peer.name(), "@", peer.address())];
  if (stub == nullptr) {
    grpc::ChannelArguments arguments;
    std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
    if (!tls_.ca.empty()) {
      absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> made = TlsChannelCredentials(tls_);
      if (!made.ok()) return nullptr;
      credentials = *std::move(made);
      arguments.SetSslTargetNameOverride(AgentServerName(peer.name()));  // its certificate names its node
    }
    stub = v1::Peer::NewStub(grpc::CreateCustomChannel(peer.address(), credentials, arguments));
  }
  return stub.get();
}

bool PeerWitness::MostLostTheController(absl::Duration timeout) {
  auto tally = std::make_shared<Tally>();
  size_t registered = 1;
  {
    absl::MutexLock lock(&mutex_);
    registered += peers_.size();
    if (!IsDisruption(1 + peers_.size(), registered)) return false;  // even all of them would not be most
    absl::Time deadline = absl::Now() + timeout;
    for (const v1::PeerNode& peer : peers_) {
      v1::Peer::Stub* stub = peer.address().empty() ? nullptr : StubFor(peer);
      if (stub == nullptr) continue;
      auto question = std::make_shared<Question>();
      question->context.set_deadline(absl::ToChronoTime(deadline));
      question->request.set_node_name(node_name_);
      {
        absl::MutexLock count(&tally->mutex);
        ++tally->pending;
      }
      stub->async()->Lease(&question->context, &question->request, &question->response,
                           [question, tally](grpc::Status status) {
                             absl::MutexLock count(&tally->mutex);
                             if (status.ok() && !question->response.controller_reachable()) ++tally->lost;
                             --tally->pending;
                           });
    }
  }
  absl::MutexLock count(&tally->mutex);
  tally->mutex.Await(absl::Condition(
      +[](Tally* t) ABSL_NO_THREAD_SAFETY_ANALYSIS { return t->pending == 0; }, tally.get()));
  return IsDisruption(1 + tally->lost, registered);
}

}  // namespace opctl::agent
