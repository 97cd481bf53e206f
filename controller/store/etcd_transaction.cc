#include "controller/store/etcd_transaction.h"

#include <set>

#include "absl/strings/str_cat.h"

namespace opctl::controller {
namespace {

using etcdserverpb::Compare;

void AddCompare(etcdserverpb::TxnRequest& txn, const std::string& key, const std::string* range_end,
                Compare::CompareResult result, int64_t mod_revision) {
  Compare* compare = txn.add_compare();
  compare->set_target(Compare::MOD);
  compare->set_result(result);
  compare->set_key(key);
  if (range_end) compare->set_range_end(*range_end);
  compare->set_mod_revision(mod_revision);
  // The failure branch reads what the compare looked at (keys only: the revisions say enough).
  etcdserverpb::RangeRequest* read = txn.add_failure()->mutable_request_range();
  read->set_key(key);
  if (range_end) read->set_range_end(*range_end);
  read->set_keys_only(true);
}

}  // namespace

absl::StatusOr<etcdserverpb::TxnRequest> ToEtcdTxn(const Transaction& transaction, const std::string& prefix,
                                                   const EtcdOptions& limits) {
  etcdserverpb::TxnRequest txn;
  std::set<std::string> changed;
  if (transaction.fence) {
    // First, so an abort finds its read first.
    Compare* compare = txn.add_compare();
    compare->set_target(Compare::CREATE);
    compare->set_result(Compare::EQUAL);
    compare->set_key(transaction.fence->key);
    compare->set_create_revision(transaction.fence->create_revision);
    etcdserverpb::RangeRequest* read = txn.add_failure()->mutable_request_range();
    read->set_key(transaction.fence->key);
    read->set_keys_only(true);
  }
  for (const Precondition& condition : transaction.preconditions) {
    std::string key = prefix + condition.key;
    if (condition.prefix) {
      // No key in the range changed after the revision: all mod_revisions below revision + 1.
      std::string end = PrefixRangeEnd(key);
      AddCompare(txn, key, &end, Compare::LESS, condition.revision + 1);
    } else {
      AddCompare(txn, key, nullptr, Compare::EQUAL, condition.revision);
    }
  }
  for (const Mutation& mutation : transaction.mutations) {
    if (!changed.insert(mutation.key).second) {
      return absl::InvalidArgumentError(absl::StrCat(mutation.key, " is changed twice in one transaction"));
    }
    std::string key = prefix + mutation.key;
    if (mutation.expected_mod_revision) AddCompare(txn, key, nullptr, Compare::EQUAL, *mutation.expected_mod_revision);
    etcdserverpb::RequestOp* op = txn.add_success();
    if (mutation.value) {
      op->mutable_request_put()->set_key(key);
      op->mutable_request_put()->set_value(*mutation.value);
    } else {
      op->mutable_request_delete_range()->set_key(key);
    }
  }
  int most = std::max(txn.compare_size(), txn.success_size());
  if (most > limits.max_txn_ops) {
    return absl::ResourceExhaustedError(
        absl::StrCat("this change needs ", txn.success_size(), " writes and ", txn.compare_size(),
                     " checks in one etcd transaction; etcd takes at most ", limits.max_txn_ops,
                     " of each (its --max-txn-ops): nothing was written; apply fewer objects at a time, or raise "
                     "--max-txn-ops on every etcd member and --etcd-max-txn-ops here"));
  }
  if (static_cast<int64_t>(txn.ByteSizeLong()) > limits.max_request_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat("this change is ", txn.ByteSizeLong(), " bytes in one etcd transaction; etcd takes at most ",
                     limits.max_request_bytes,
                     " bytes per request (its --max-request-bytes): nothing was written; apply "
                     "fewer or smaller objects at a time"));
  }
  return txn;
}

absl::Status DescribeAbort(const Transaction& transaction, const etcdserverpb::TxnResponse& response) {
  // The failure branch holds one range per compare, in the order ToEtcdTxn made them.
  int index = 0;
  auto found = [&](int at) -> const etcdserverpb::RangeResponse* {
    if (at >= response.responses_size() || !response.responses(at).has_response_range()) return nullptr;
    return &response.responses(at).response_range();
  };
  if (transaction.fence) {
    const etcdserverpb::RangeResponse* range = found(index++);
    if (range != nullptr &&
        (range->kvs_size() == 0 || range->kvs(0).create_revision() != transaction.fence->create_revision)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "this controller no longer leads (its leader key ", transaction.fence->key, " of revision ",
          transaction.fence->create_revision, " is gone): a leader's write is refused once another may lead"));
    }
  }
  for (const Precondition& condition : transaction.preconditions) {
    const etcdserverpb::RangeResponse* range = found(index++);
    if (range == nullptr) continue;
    if (condition.prefix) {
      for (const mvccpb::KeyValue& kv : range->kvs()) {
        if (kv.mod_revision() > condition.revision) {
          return absl::AbortedError(absl::StrCat(condition.key, " had a key changed since revision ",
                                                 condition.revision, ": read again and retry"));
        }
      }
    } else {
      int64_t actual = range->kvs_size() > 0 ? range->kvs(0).mod_revision() : 0;
      if (actual != condition.revision) {
        return absl::AbortedError(
            absl::StrCat(condition.key, " changed since revision ", condition.revision, ": read again and retry"));
      }
    }
  }
  for (const Mutation& mutation : transaction.mutations) {
    if (!mutation.expected_mod_revision) continue;
    const etcdserverpb::RangeResponse* range = found(index++);
    if (range == nullptr) continue;
    int64_t actual = range->kvs_size() > 0 ? range->kvs(0).mod_revision() : 0;
    if (actual != *mutation.expected_mod_revision) {
      return absl::AbortedError(absl::StrCat(mutation.key, " was modified: expected revision ",
                                             *mutation.expected_mod_revision, ", found ",
                                             actual == 0 ? "none (absent)" : absl::StrCat(actual)));
    }
  }
  // A key deleted between the compare and the read of the failure branch cannot be: etcd runs both at
  // one revision. What is left is a prefix whose newest change was a deletion.
  return absl::AbortedError("a key this transaction depends on changed: read again and retry");
}

KeyValue FromEtcdKeyValue(const mvccpb::KeyValue& kv, const std::string& prefix) {
  KeyValue out;
  out.key = kv.key().substr(std::min(prefix.size(), kv.key().size()));
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  return out;
}

Event FromEtcdEvent(const mvccpb::Event& event, const std::string& prefix) {
  Event out;
  if (event.type() == mvccpb::Event::PUT) {
    out.type = Event::Type::kPut;
    out.kv = FromEtcdKeyValue(event.kv(), prefix);
    out.created = event.kv().version() == 1;
    if (event.has_prev_kv()) out.prev_value = event.prev_kv().value();
  } else {
    // etcd's delete event carries only the key and the deletion's revision; the value before is
    // prev_kv, as the store's delete events hold it.
    out.type = Event::Type::kDelete;
    out.kv = event.has_prev_kv() ? FromEtcdKeyValue(event.prev_kv(), prefix) : FromEtcdKeyValue(event.kv(), prefix);
    out.kv.mod_revision = event.kv().mod_revision();
  }
  return out;
}

}  // namespace opctl::controller
