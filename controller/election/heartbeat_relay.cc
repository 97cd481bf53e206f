#include "controller/election/heartbeat_relay.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"

namespace opctl::controller {

HeartbeatRelay::HeartbeatRelay(EtcdClient& client, NodeMonitor& monitor, const LeaderElection& election,
                               HeartbeatRelayOptions options)
    : client_(client), monitor_(monitor), election_(election), options_(std::move(options)) {}

HeartbeatRelay::~HeartbeatRelay() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void HeartbeatRelay::Start() {
  thread_ = std::thread([this] { Run(); });
}

void HeartbeatRelay::Run() {
  for (int64_t sequence = 0;; ++sequence) {
    Publish(sequence);
    if (election_.leading()) Collect();
    absl::MutexLock lock(&mutex_);
    if (mutex_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval)) return;
  }
}

void HeartbeatRelay::Publish(int64_t sequence) {
  std::vector<std::string> heard = monitor_.HeardDirectlySince(absl::Now() - 2 * options_.interval);
  // An idle controller says it is there every fourth interval only.
  if (heard.empty()) {
    if (sequence - last_empty_publication_ < 4) return;
    last_empty_publication_ = sequence;
  }
  etcdserverpb::TxnRequest txn;
  etcdserverpb::PutRequest* put = txn.add_success()->mutable_request_put();
  put->set_key(options_.prefix + options_.identity);
  // The sequence makes every publication a change the leader notices, even with the same nodes; the
  // time says how fresh it is to whoever lists the controllers.
  put->set_value(absl::StrCat(sequence, "\n", absl::ToUnixMillis(absl::Now()), "\n", absl::StrJoin(heard, "\n")));
  if (absl::StatusOr<etcdserverpb::TxnResponse> done = client_.Txn(txn); !done.ok()) {
    options_.logger->Warn("heartbeat relay", absl::StrCat("cannot publish: ", done.status().message()));
  }
}

void HeartbeatRelay::Collect() {
  etcdserverpb::RangeRequest request;
  request.set_key(options_.prefix);
  request.set_range_end(PrefixRangeEnd(options_.prefix));
  absl::StatusOr<etcdserverpb::RangeResponse> keys = client_.Range(request);
  if (!keys.ok()) return;  // the leader's own checker holds its fire while it hears nothing new
  for (const mvccpb::KeyValue& kv : keys->kvs()) {
    if (kv.key() == options_.prefix + options_.identity) continue;
    int64_t& seen = seen_[kv.key()];
    bool first = seen == 0;
    if (kv.mod_revision() <= seen) continue;
    seen = kv.mod_revision();
    if (first) continue;  // an old key of a controller that may be gone: only a change is news
    std::vector<std::string> lines = absl::StrSplit(kv.value(), '\n', absl::SkipEmpty());
    lines.erase(lines.begin(), lines.begin() + std::min<size_t>(2, lines.size()));  // the sequence and time
    monitor_.Relayed(lines);
  }
}

absl::StatusOr<std::vector<HeartbeatRelay::Member>> HeartbeatRelay::Members() const {
  etcdserverpb::RangeRequest request;
  request.set_key(options_.prefix);
  request.set_range_end(PrefixRangeEnd(options_.prefix));
  absl::StatusOr<etcdserverpb::RangeResponse> keys = client_.Range(request);
  if (!keys.ok()) return keys.status();
  std::vector<Member> members;
  for (const mvccpb::KeyValue& kv : keys->kvs()) {
    std::vector<std::string> lines = absl::StrSplit(kv.value(), '\n', absl::SkipEmpty());
    int64_t millis = 0;
    if (lines.size() < 2 || !absl::SimpleAtoi(lines[1], &millis)) continue;
    Member member;
    member.identity = kv.key().substr(options_.prefix.size());
    member.nodes_heard = static_cast<int>(lines.size() - 2);
    member.since_seen = absl::Now() - absl::FromUnixMillis(millis);
    members.push_back(std::move(member));
  }
  return members;
}

}  // namespace opctl::controller
