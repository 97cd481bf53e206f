// A client of etcd's v3 gRPC API over the project's own gRPC and its copy of etcd's protos: one
// channel per endpoint, calls go to the current one and move to the next when it fails, and every
// error names the endpoint that gave it.
//
// Thread-safe.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "etcd/etcdserverpb/rpc.grpc.pb.h"
#include "etcd/v3electionpb/v3election.grpc.pb.h"

namespace opctl::controller {

struct EtcdOptions {
  std::vector<std::string> endpoints;  // http://host:port or https://host:port
  std::string ca_file;                 // https: the CA etcd's certificates come from
  std::string cert_file, key_file;     // the client certificate etcd's --client-cert-auth asks for
  absl::Duration request_timeout = absl::Seconds(5);
  // etcd's defaults (--max-txn-ops, --max-request-bytes): a transaction over them is refused here,
  // whole, with a message, instead of by etcd.
  int max_txn_ops = 128;
  int64_t max_request_bytes = 1536 * 1024;
};

// Parses "URL,URL,..." (commas, no spaces needed) into endpoints; errors name the bad one.
absl::StatusOr<std::vector<std::string>> ParseEtcdEndpoints(const std::string& list);

class EtcdClient {
 public:
  struct Endpoint {
    std::string url;
    std::shared_ptr<grpc::Channel> channel;
    std::unique_ptr<etcdserverpb::KV::Stub> kv;
    std::unique_ptr<etcdserverpb::Watch::Stub> watch;
    std::unique_ptr<etcdserverpb::Lease::Stub> lease;
    std::unique_ptr<etcdserverpb::Maintenance::Stub> maintenance;
    std::unique_ptr<v3electionpb::Election::Stub> election;
  };

  // Reads the certificate files and makes the channels (no call is made yet). Errors name the file
  // or endpoint at fault.
  static absl::StatusOr<std::unique_ptr<EtcdClient>> Create(EtcdOptions options);

  const EtcdOptions& options() const { return options_; }
  // The endpoint calls go to now.
  const Endpoint& Current() const;
  // `failed` did not answer: calls move to the next endpoint (unless another caller moved already).
  void MoveOn(const Endpoint& failed);

  // Unary calls, each with the request timeout, tried on every endpoint in turn while they answer
  // UNAVAILABLE (etcd's "no leader" and a refused connection both are): a guarded transaction
  // retried after it was applied fails its compare, so the retry is safe.
  absl::StatusOr<etcdserverpb::RangeResponse> Range(const etcdserverpb::RangeRequest& request);
  absl::StatusOr<etcdserverpb::TxnResponse> Txn(const etcdserverpb::TxnRequest& request);
  absl::Status Compact(int64_t revision);
  // A context with the request timeout (and etcd's "fail when the member has no leader").
  std::unique_ptr<grpc::ClientContext> NewContext(absl::Duration timeout) const;

  // A failed call's status, naming the endpoint and saying what it means for the caller.
  static absl::Status FromGrpc(const grpc::Status& status, const std::string& url, const char* call);

 private:
  explicit EtcdClient(EtcdOptions options) : options_(std::move(options)) {}
  template <typename Call>
  absl::Status OnSomeEndpoint(const char* name, Call call);

  const EtcdOptions options_;
  std::vector<std::unique_ptr<Endpoint>> endpoints_;
  mutable absl::Mutex mutex_;
  size_t current_ ABSL_GUARDED_BY(mutex_) = 0;
};

// The end of the key range of every key starting with `prefix`, as etcd takes it (range_end).
std::string PrefixRangeEnd(const std::string& prefix);

}  // namespace opctl::controller
