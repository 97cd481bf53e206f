// How a Store transaction becomes etcd's Txn, and back (no etcd needed: the real one is in store_test).
#include "controller/store/etcd_transaction.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace opctl::controller {
namespace {

using etcdserverpb::Compare;
using ::testing::HasSubstr;

TEST(EtcdTransactionTest, ExpectationsAndPreconditionsAreModRevisionComparesWithReadsOnFailure) {
  Transaction transaction;
  transaction.preconditions = {{"/svc/", true, 7}, {"/net/n", false, 5}};
  transaction.mutations = {{"/a", std::string("1"), 0}, {"/b", std::nullopt, std::nullopt}};
  absl::StatusOr<etcdserverpb::TxnRequest> txn = ToEtcdTxn(transaction, "/p", EtcdOptions{});
  ASSERT_TRUE(txn.ok()) << txn.status();
  ASSERT_EQ(txn->compare_size(), 3);
  EXPECT_EQ(txn->compare(0).key(), "/p/svc/");
  EXPECT_EQ(txn->compare(0).range_end(), "/p/svc0");  // every key under the prefix
  EXPECT_EQ(txn->compare(0).result(), Compare::LESS);
  EXPECT_EQ(txn->compare(0).mod_revision(), 8);
  EXPECT_EQ(txn->compare(1).result(), Compare::EQUAL);
  EXPECT_EQ(txn->compare(1).mod_revision(), 5);
  EXPECT_EQ(txn->compare(2).key(), "/p/a");
  EXPECT_EQ(txn->compare(2).mod_revision(), 0);  // "must not exist", as the Kubernetes API server creates
  ASSERT_EQ(txn->success_size(), 2);
  EXPECT_EQ(txn->success(0).request_put().value(), "1");
  EXPECT_EQ(txn->success(1).request_delete_range().key(), "/p/b");
  EXPECT_EQ(txn->failure_size(), 3);
}

TEST(EtcdTransactionTest, TheAbortNamesTheKeyThatChanged) {
  Transaction transaction;
  transaction.mutations = {{"/a", std::string("2"), 4}};
  etcdserverpb::TxnResponse response;
  response.add_responses()->mutable_response_range()->add_kvs()->set_mod_revision(9);
  absl::Status status = DescribeAbort(transaction, response);
  EXPECT_TRUE(absl::IsAborted(status));
  EXPECT_THAT(std::string(status.message()), HasSubstr("/a was modified: expected revision 4, found 9"));
}

TEST(EtcdTransactionTest, OverEtcdsLimitsIsRefusedBeforeSending) {
  EtcdOptions limits;
  limits.max_txn_ops = 2;
  Transaction transaction;
  transaction.mutations = {{"/a", std::string("1"), std::nullopt},
                           {"/b", std::string("1"), std::nullopt},
                           {"/c", std::string("1"), std::nullopt}};
  absl::StatusOr<etcdserverpb::TxnRequest> txn = ToEtcdTxn(transaction, "", limits);
  EXPECT_TRUE(absl::IsResourceExhausted(txn.status()));
  EXPECT_THAT(std::string(txn.status().message()), HasSubstr("at most 2"));
}

TEST(EtcdTransactionTest, ADeleteEventCarriesTheValueBefore) {
  mvccpb::Event event;
  event.set_type(mvccpb::Event::DELETE);
  event.mutable_kv()->set_key("/p/a");
  event.mutable_kv()->set_mod_revision(12);
  event.mutable_prev_kv()->set_key("/p/a");
  event.mutable_prev_kv()->set_value("last");
  event.mutable_prev_kv()->set_create_revision(3);
  Event out = FromEtcdEvent(event, "/p");
  EXPECT_EQ(out.type, Event::Type::kDelete);
  EXPECT_EQ(out.kv.key, "/a");
  EXPECT_EQ(out.kv.value, "last");
  EXPECT_EQ(out.kv.mod_revision, 12);
  EXPECT_EQ(out.kv.create_revision, 3);
}

TEST(EtcdTransactionTest, EndpointsMustBeUrls) {
  EXPECT_TRUE(ParseEtcdEndpoints("https://127.0.0.1:2379, http://10.0.0.2:2379").ok());
  absl::StatusOr<std::vector<std::string>> bad = ParseEtcdEndpoints("https://a:1,127.0.0.1:2379");
  EXPECT_FALSE(bad.ok());
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("\"127.0.0.1:2379\""));
  EXPECT_FALSE(ParseEtcdEndpoints("").ok());
  EXPECT_EQ(PrefixRangeEnd("/a\xff"), "/b");
}

}  // namespace
}  // namespace opctl::controller
