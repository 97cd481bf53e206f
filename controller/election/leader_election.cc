#include "controller/election/leader_election.h"

#include "absl/strings/str_cat.h"
#include "common/clock.h"

namespace opctl::controller {
namespace {

// A lease renewed at `sent` with `ttl` is alive until sent + ttl by etcd's clock; this process gives
// up a little before, so it stops acting before another may start.
constexpr double kSafety = 0.8;

}  // namespace

LeaderElection::LeaderElection(EtcdClient& client, LeaderElectionOptions options, Changed changed)
    : client_(client), options_(std::move(options)), changed_(std::move(changed)) {}

LeaderElection::~LeaderElection() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
    if (campaign_) campaign_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void LeaderElection::Start() {
  thread_ = std::thread([this] { Run(); });
}

bool LeaderElection::leading() const {
  absl::MutexLock lock(&mutex_);
  return fence_.has_value();
}

std::string LeaderElection::Leader() const {
  v3electionpb::LeaderRequest request;
  request.set_name(options_.name);
  v3electionpb::LeaderResponse response;
  const EtcdClient::Endpoint& endpoint = client_.Current();
  std::unique_ptr<grpc::ClientContext> context = client_.NewContext(client_.options().request_timeout);
  if (!endpoint.election->Leader(context.get(), request, &response).ok()) return "";
  return response.kv().value();
}

bool LeaderElection::TermOver() const { return stopping_ || lease_lost_ || absl::Now() >= lease_valid_until_; }

void LeaderElection::Run() {
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    absl::Status ended = Term();
    absl::MutexLock lock(&mutex_);
    if (stopping_) return;
    if (!ended.ok()) {
      Log(absl::StrCat("campaign ended: ", ended.message(), "; again"));
      client_.MoveOn(client_.Current());
      mutex_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
      backoff = std::min(backoff * 2, absl::Seconds(1));
    } else {
      backoff = absl::Milliseconds(100);
    }
  }
}

absl::StatusOr<int64_t> LeaderElection::GrantLease() {
  etcdserverpb::LeaseGrantRequest request;
  request.set_ttl(std::max<int64_t>(1, absl::ToInt64Seconds(options_.lease_ttl)));
  etcdserverpb::LeaseGrantResponse response;
  const EtcdClient::Endpoint& endpoint = client_.Current();
  absl::Time sent = absl::Now();
  std::unique_ptr<grpc::ClientContext> context = client_.NewContext(client_.options().request_timeout);
  grpc::Status status = endpoint.lease->LeaseGrant(context.get(), request, &response);
  if (!status.ok()) return EtcdClient::FromGrpc(status, endpoint.url, "LeaseGrant");
  absl::MutexLock lock(&mutex_);
  lease_lost_ = false;
  lease_valid_until_ = sent + absl::Seconds(response.ttl()) * kSafety;
  return response.id();
}

absl::StatusOr<std::optional<Fence>> LeaderElection::Campaign(int64_t lease) {
  const EtcdClient::Endpoint& endpoint = client_.Current();
  grpc::ClientContext campaign;
  {
    absl::MutexLock lock(&mutex_);
    campaign_ = &campaign;
    if (TermOver()) campaign.TryCancel();
  }
  v3electionpb::CampaignRequest request;
  request.set_name(options_.name);
  request.set_lease(lease);
  request.set_value(options_.identity);
  v3electionpb::CampaignResponse won;
  // Waits while another leads; the renewer cancels it if the lease goes.
  grpc::Status status = endpoint.election->Campaign(&campaign, request, &won);
  absl::MutexLock lock(&mutex_);
  campaign_ = nullptr;
  if (TermOver()) return std::nullopt;  // the lease went, or Stop: not a failure of the campaign
  if (!status.ok()) return EtcdClient::FromGrpc(status, endpoint.url, "Campaign");
  fence_ = Fence{won.leader().key(), won.leader().rev()};
  return fence_;
}

void LeaderElection::Lead(const Fence& fence) {
  Log(absl::StrCat("leading (key ", fence.key, ", revision ", fence.create_revision, ")"));
  changed_(fence);
  bool stopping = false;
  {
    absl::MutexLock lock(&mutex_);
    // Until the lease may have expired (the renewer keeps moving that on) or Stop.
    while (!TermOver()) {
      mutex_.AwaitWithDeadline(absl::Condition(
                                   +[](LeaderElection* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mutex_) {
                                     return self->stopping_ || self->lease_lost_;
                                   },
                                   this),
                               lease_valid_until_);
    }
    fence_.reset();
    stopping = stopping_;
  }
  Log(stopping ? "resigning" : "no longer leading: the lease may have expired");
  changed_(std::nullopt);
}

absl::Status LeaderElection::Term() {
  absl::StatusOr<int64_t> lease = GrantLease();
  if (!lease.ok()) return lease.status();
  std::thread renewer([this, id = *lease] { KeepAlive(id); });
  absl::StatusOr<std::optional<Fence>> won = Campaign(*lease);
  if (won.ok() && *won) Lead(**won);
  {
    absl::MutexLock lock(&mutex_);
    lease_lost_ = true;  // ends the renewer
  }
  renewer.join();
  // Revoking the lease deletes the leader key: a graceful stop hands over without waiting out the TTL.
  etcdserverpb::LeaseRevokeRequest revoke;
  revoke.set_id(*lease);
  etcdserverpb::LeaseRevokeResponse revoked;
  std::unique_ptr<grpc::ClientContext> context = client_.NewContext(client_.options().request_timeout);
  (void)client_.Current().lease->LeaseRevoke(context.get(), revoke, &revoked);
  return won.status();
}

void LeaderElection::KeepAlive(int64_t lease) {
  auto over = +[](LeaderElection* self)
                   ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mutex_) { return self->stopping_ || self->lease_lost_; };
  while (true) {
    // One renewal per short stream with a deadline: a member that stops answering cannot hold the
    // renewer past the lease's life.
    absl::Duration left;
    {
      absl::MutexLock lock(&mutex_);
      if (over(this)) return;
      left = lease_valid_until_ - absl::Now();
    }
    const EtcdClient::Endpoint& endpoint = client_.Current();
    std::unique_ptr<grpc::ClientContext> context =
        client_.NewContext(std::clamp(left, absl::Milliseconds(200), client_.options().request_timeout));
    auto stream = endpoint.lease->LeaseKeepAlive(context.get());
    etcdserverpb::LeaseKeepAliveRequest request;
    request.set_id(lease);
    absl::Time sent = absl::Now();
    etcdserverpb::LeaseKeepAliveResponse response;
    bool answered = stream->Write(request) && stream->Read(&response);
    context->TryCancel();
    stream->Finish();
    absl::MutexLock lock(&mutex_);
    if (over(this)) return;
    if (answered && response.ttl() > 0) {
      lease_valid_until_ = sent + absl::Seconds(response.ttl()) * kSafety;
      mutex_.AwaitWithTimeout(absl::Condition(over, this), options_.lease_ttl / 3);
      continue;
    }
    if (answered || absl::Now() >= lease_valid_until_) {
      // etcd says the lease expired, or it may have: this term is over.
      Log(answered ? "the lease expired"
                   : absl::StrCat("no lease renewal answered in time (last tried ", endpoint.url, ")"));
      lease_lost_ = true;
      if (campaign_) campaign_->TryCancel();
      return;
    }
    client_.MoveOn(endpoint);
    mutex_.AwaitWithTimeout(absl::Condition(over, this), absl::Milliseconds(100));
  }
}

}  // namespace opctl::controller
