// A Store transaction as etcd's Txn, the way the Kubernetes API server writes: every expectation and
// precondition a compare on mod_revision, the mutations the success branch, and a Range of each
// compared key in the failure branch, so an abort can say what changed. Keys live under the store's
// prefix in etcd.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "controller/store/etcd_client.h"
#include "controller/store/store.h"
#include "etcd/etcdserverpb/rpc.pb.h"

namespace opctl::controller {

// INVALID_ARGUMENT when a key is changed twice, RESOURCE_EXHAUSTED when etcd's limits would refuse
// it (more than `max_txn_ops` compares or operations, a request over `max_request_bytes`): the
// message says how many and what to do, and nothing is sent.
absl::StatusOr<etcdserverpb::TxnRequest> ToEtcdTxn(const Transaction& transaction, const std::string& prefix,
                                                   const EtcdOptions& limits);

// The ABORTED status of a transaction whose compares failed, naming the first key that changed.
absl::Status DescribeAbort(const Transaction& transaction, const etcdserverpb::TxnResponse& response);

// An etcd watch event as the store's Event (keys without the prefix).
Event FromEtcdEvent(const mvccpb::Event& event, const std::string& prefix);
KeyValue FromEtcdKeyValue(const mvccpb::KeyValue& kv, const std::string& prefix);

}  // namespace opctl::controller
