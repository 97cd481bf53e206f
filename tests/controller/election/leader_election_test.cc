// Leader election and fencing against a real etcd: one leader at a time, a resignation hands over at
// once, and a deposed leader's late write is refused by etcd whatever the timing.
#include "controller/election/leader_election.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "controller/store/etcd_store.h"
#include "controller/store/fenced_store.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/wait.h"

namespace opctl::controller {
namespace {

using ::testing::HasSubstr;
using testing::WaitFor;

// An election whose fence is recorded as it changes.
struct Candidate {
  Candidate(EtcdClient& client, const std::string& identity)
      : election(client, {.identity = identity, .logger = &log}, [this](std::optional<Fence> fence) {
          absl::MutexLock lock(&mutex);
          this->fence = std::move(fence);
        }) {}
  std::optional<Fence> Current() {
    absl::MutexLock lock(&mutex);
    return fence;
  }
  RecordingLogger log;
  absl::Mutex mutex;
  std::optional<Fence> fence ABSL_GUARDED_BY(mutex);
  LeaderElection election;
};

absl::StatusOr<int64_t> CommitThrough(Store& store, const std::string& key) {
  return store.CommitAndWait({Mutation{key, std::string("v"), std::nullopt}});
}

TEST(LeaderElectionTest, ADeposedLeadersLateWriteIsRefusedAndTheNextLeaderWrites) {
  absl::StatusOr<std::unique_ptr<testing::EtcdCluster>> cluster = testing::EtcdCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  EtcdStoreOptions options = (*cluster)->StoreOptions();
  absl::StatusOr<std::unique_ptr<EtcdStore>> store = EtcdStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status();
  EtcdClient& client = (*store)->client();

  Candidate a(client, "a:1");
  a.election.Start();
  ASSERT_TRUE(WaitFor([&] { return a.Current().has_value(); }, absl::Seconds(10)));
  Candidate b(client, "b:1");
  b.election.Start();
  EXPECT_EQ(a.election.Leader(), "a:1");

  // A's writes carry its fence as they were when it led, as a paused process's would.
  FencedStore as_a(**store);
  as_a.SetFence(a.Current());
  ASSERT_TRUE(CommitThrough(as_a, "/a/before").ok());
  EXPECT_FALSE(b.Current().has_value()) << "two leaders at once";

  // A's lease ends behind its back (what etcd does when A is stopped past the lease's TTL).
  std::string key = a.Current()->key;
  uint64_t lease = 0;
  ASSERT_TRUE(absl::SimpleHexAtoi(key.substr(key.rfind('/') + 1), &lease)) << key;
  etcdserverpb::LeaseRevokeRequest revoke;
  revoke.set_id(static_cast<int64_t>(lease));
  etcdserverpb::LeaseRevokeResponse revoked;
  grpc::ClientContext context;
  ASSERT_TRUE(client.Current().lease->LeaseRevoke(&context, revoke, &revoked).ok());
  absl::Time revoked_at = absl::Now();
  ASSERT_TRUE(WaitFor([&] { return b.Current().has_value(); }, absl::Seconds(10))) << "b never took over";
  std::printf("b leads %.0f ms after a's lease ended\n", absl::ToDoubleMilliseconds(absl::Now() - revoked_at));

  absl::StatusOr<int64_t> late = CommitThrough(as_a, "/a/late");
  EXPECT_TRUE(absl::IsFailedPrecondition(late.status())) << late.status();
  EXPECT_THAT(std::string(late.status().message()), HasSubstr("no longer leads"));
  EXPECT_TRUE(absl::IsNotFound((*store)->Get("/a/late").status())) << "the deposed leader's write landed";
  FencedStore as_b(**store);
  as_b.SetFence(b.Current());
  EXPECT_TRUE(CommitThrough(as_b, "/b/first").ok());
  // A notices too, and stops acting.
  EXPECT_TRUE(WaitFor([&] { return !a.Current().has_value(); }, absl::Seconds(10)));
  EXPECT_TRUE(WaitFor([&] { return b.election.Leader() == "b:1"; }, absl::Seconds(5)));
  // Not leading at all: nothing is sent.
  FencedStore unfenced(**store);
  EXPECT_TRUE(absl::IsFailedPrecondition(CommitThrough(unfenced, "/nobody").status()));
}

TEST(LeaderElectionTest, AResigningLeaderHandsOverAtOnce) {
  absl::StatusOr<std::unique_ptr<testing::EtcdCluster>> cluster = testing::EtcdCluster::Start(1);
  ASSERT_TRUE(cluster.ok()) << cluster.status();
  absl::StatusOr<std::unique_ptr<EtcdStore>> store = EtcdStore::Open((*cluster)->StoreOptions());
  ASSERT_TRUE(store.ok()) << store.status();
  auto a = std::make_unique<Candidate>((*store)->client(), "a:1");
  a->election.Start();
  ASSERT_TRUE(WaitFor([&] { return a->Current().has_value(); }, absl::Seconds(10)));
  Candidate b((*store)->client(), "b:1");
  b.election.Start();
  absl::Time stopped = absl::Now();
  a.reset();  // a graceful stop revokes the lease: no wait for its TTL
  ASSERT_TRUE(WaitFor([&] { return b.Current().has_value(); }, absl::Seconds(10)));
  EXPECT_LT(absl::Now() - stopped, absl::Seconds(1)) << "the handover waited for the lease to expire";
}

}  // namespace
}  // namespace opctl::controller
