// What only the etcd store has to get right, against real etcd clusters: several stores on one
// cluster, etcd's limits, an unreachable cluster, a lost quorum and a member killed under load.
#include "controller/store/etcd_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "controller/election/etcd_compactor.h"
#include "tests/support/etcd_cluster.h"
#include "tests/support/wait.h"

namespace opctl::controller {
namespace {

using testing::EtcdCluster;
using ::testing::HasSubstr;
using testing::WaitFor;

Mutation Put(const std::string& key, const std::string& value) { return Mutation{key, value, std::nullopt}; }

std::unique_ptr<EtcdCluster> StartCluster(int members) {
  absl::StatusOr<std::unique_ptr<EtcdCluster>> cluster = EtcdCluster::Start(members);
  EXPECT_TRUE(cluster.ok()) << cluster.status();
  return cluster.ok() ? *std::move(cluster) : nullptr;
}

std::unique_ptr<EtcdStore> OpenStore(EtcdStoreOptions options) {
  absl::StatusOr<std::unique_ptr<EtcdStore>> store = EtcdStore::Open(std::move(options));
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? *std::move(store) : nullptr;
}

// Requests give up after 2 s (a dead member costs less of a test), and the store's lines are kept.
EtcdStoreOptions ImpatientOptions(const EtcdCluster& cluster, RecordingLogger& log) {
  EtcdStoreOptions options = cluster.StoreOptions();
  options.etcd.request_timeout = absl::Seconds(2);
  options.logger = &log;
  return options;
}

TEST(EtcdStoreTest, TwoStoresOnOneClusterSeeEachOthersWritesInOrderAndALaterOneLoadsTheHistory) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  auto a = OpenStore(cluster->StoreOptions());
  auto b = OpenStore(cluster->StoreOptions());
  ASSERT_TRUE(a && b);
  absl::Mutex mutex;
  std::vector<int64_t> heard_by_b;
  b->SetCommitListener([&](int64_t revision, const std::vector<Event>&) {
    absl::MutexLock lock(&mutex);
    heard_by_b.push_back(revision);
  });
  int64_t base = a->Revision();
  std::vector<int64_t> written;
  for (int i = 0; i < 20; ++i) {
    absl::StatusOr<int64_t> revision = (i % 2 ? b : a)->CommitAndWait({Put(absl::StrCat("/k", i), "v")});
    ASSERT_TRUE(revision.ok()) << revision.status();
    written.push_back(*revision);
  }
  ASSERT_TRUE(
      WaitFor([&] { return b->Revision() >= written.back() && a->Revision() >= written.back(); }, absl::Seconds(10)));
  EXPECT_EQ(a->Range("/k").kvs.size(), 20u);
  EXPECT_EQ(b->Range("/k").kvs.size(), 20u);
  {
    absl::MutexLock lock(&mutex);
    EXPECT_EQ(heard_by_b, written) << "b heard every revision, a's and its own, once and in order";
  }
  // A store opened later (a controller that starts after the writes) can replay them: a watch may
  // resume on it from a revision another controller served.
  auto later = OpenStore(cluster->StoreOptions());
  ASSERT_TRUE(later);
  ASSERT_TRUE(WaitFor([&] { return later->CompactedRevision() <= base; }, absl::Seconds(10)))
      << "the history was not loaded: compacted at " << later->CompactedRevision();
  absl::StatusOr<std::vector<Event>> replay = later->EventsAfter(base);
  ASSERT_TRUE(replay.ok()) << replay.status();
  ASSERT_EQ(replay->size(), 20u);
  for (size_t i = 0; i < replay->size(); ++i) EXPECT_EQ((*replay)[i].kv.mod_revision, written[i]);
}

TEST(EtcdStoreTest, WhatEtcdWouldRefuseIsRefusedWholeWithAMessage) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  auto store = OpenStore(cluster->StoreOptions());
  ASSERT_TRUE(store);
  std::vector<Mutation> many;
  for (int i = 0; i < 129; ++i) many.push_back(Put(absl::StrCat("/many/", i), "v"));
  absl::StatusOr<int64_t> refused = store->CommitAndWait(many);
  EXPECT_TRUE(absl::IsResourceExhausted(refused.status())) << refused.status();
  EXPECT_THAT(std::string(refused.status().message()), HasSubstr("at most 128"));
  many.pop_back();
  EXPECT_TRUE(store->CommitAndWait(many).ok()) << "128 writes fit in one transaction";
  absl::StatusOr<int64_t> big = store->CommitAndWait({Put("/big", std::string(2 << 20, 'x'))});
  EXPECT_TRUE(absl::IsResourceExhausted(big.status())) << big.status();
  EXPECT_THAT(std::string(big.status().message()), HasSubstr("bytes per request"));
  EXPECT_TRUE(absl::IsNotFound(store->Get("/big").status()));
}

TEST(EtcdStoreTest, AnUnreachableClusterIsNamedAndRetried) {
  auto cluster = StartCluster(1);  // for its certificates; the endpoint below has nobody
  ASSERT_TRUE(cluster);
  EtcdStoreOptions options = cluster->StoreOptions();
  options.etcd.endpoints = {cluster->Endpoint(7)};
  options.etcd.request_timeout = absl::Milliseconds(500);
  options.connect_timeout = absl::Seconds(2);
  RecordingLogger log;
  options.logger = &log;
  absl::StatusOr<std::unique_ptr<EtcdStore>> store = EtcdStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_TRUE(absl::IsUnavailable(store.status())) << store.status();
  EXPECT_THAT(std::string(store.status().message()), HasSubstr(cluster->Endpoint(7)));
  EXPECT_GE(log.lines().size(), 1u) << "it said nothing while retrying";
}

TEST(EtcdStoreTest, LosingTheQuorumFailsWritesUnavailableSaysReadsMayBeStaleAndLosesNothing) {
  auto cluster = StartCluster(3);
  ASSERT_TRUE(cluster);
  RecordingLogger log;
  EtcdStoreOptions options = ImpatientOptions(*cluster, log);
  auto store = OpenStore(options);
  ASSERT_TRUE(store);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(store->CommitAndWait({Put(absl::StrCat("/acked/", i), "v")}).ok());
  ASSERT_TRUE(testing::Ok(cluster->Kill(2)));
  ASSERT_TRUE(testing::Ok(cluster->Kill(3)));
  absl::StatusOr<int64_t> lost = store->CommitAndWait({Put("/during", "v")});
  EXPECT_TRUE(absl::IsUnavailable(lost.status())) << lost.status();
  ASSERT_TRUE(WaitFor([&] { return !store->ReadsCurrent().ok(); }, absl::Seconds(20)));
  absl::Status stale = store->ReadsCurrent();
  EXPECT_TRUE(absl::IsUnavailable(stale)) << stale;
  EXPECT_THAT(std::string(stale.message()), HasSubstr("may be stale"));
  ASSERT_TRUE(testing::Ok(cluster->Restart(2)));
  ASSERT_TRUE(testing::Ok(cluster->Restart(3)));
  ASSERT_TRUE(WaitFor([&] { return store->CommitAndWait({Put("/after", "v")}).ok(); }, absl::Seconds(30)));
  EXPECT_TRUE(WaitFor([&] { return store->ReadsCurrent().ok(); }, absl::Seconds(10))) << store->ReadsCurrent();
  EXPECT_EQ(store->Range("/acked/").kvs.size(), 20u) << "an acknowledged write was lost";
}

TEST(EtcdStoreTest, KillingTheMemberInUseUnderLoadKeepsWritesGoingAndItCatchesUpWhenBack) {
  auto cluster = StartCluster(3);
  ASSERT_TRUE(cluster);
  RecordingLogger log;
  EtcdStoreOptions options = ImpatientOptions(*cluster, log);
  auto store = OpenStore(options);
  ASSERT_TRUE(store);
  std::atomic<bool> stop = false;
  std::atomic<int> acknowledged = 0;
  absl::Mutex mutex;
  std::set<std::string> acknowledged_keys;
  std::vector<std::thread> writers;
  for (int t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; !stop; ++i) {
        std::string key = absl::StrCat("/load/", t, "-", i);
        if (store->CommitAndWait({Put(key, "v")}).ok()) {
          absl::MutexLock lock(&mutex);
          acknowledged_keys.insert(key);
          ++acknowledged;
        }
      }
    });
  }
  ASSERT_TRUE(WaitFor([&] { return acknowledged >= 50; }, absl::Seconds(20)));
  std::string in_use = store->client().Current().url;
  int member = 0;
  for (int i = 1; i <= 3; ++i)
    if (cluster->Endpoint(i) == in_use) member = i;
  ASSERT_NE(member, 0) << in_use;
  ASSERT_TRUE(testing::Ok(cluster->Kill(member)));
  int at_kill = acknowledged;
  EXPECT_TRUE(WaitFor([&] { return acknowledged >= at_kill + 100; }, absl::Seconds(30)))
      << "writes stopped after member " << member << " was killed: " << acknowledged - at_kill << " since";
  ASSERT_TRUE(testing::Ok(cluster->Restart(member)));
  int at_restart = acknowledged;
  ASSERT_TRUE(WaitFor([&] { return acknowledged >= at_restart + 50; }, absl::Seconds(30)));
  stop = true;
  for (std::thread& writer : writers) writer.join();
  // The member that came back has every acknowledged write: a store reading from it alone sees them.
  EtcdStoreOptions only_it = options;
  only_it.etcd.endpoints = {cluster->Endpoint(member)};
  auto reader = OpenStore(only_it);
  ASSERT_TRUE(reader);
  absl::MutexLock lock(&mutex);
  ASSERT_TRUE(
      WaitFor([&] { return reader->Range("/load/").kvs.size() >= acknowledged_keys.size(); }, absl::Seconds(20)));
  std::set<std::string> stored;
  for (const KeyValue& kv : reader->Range("/load/").kvs) stored.insert(kv.key);
  for (const std::string& key : acknowledged_keys) EXPECT_TRUE(stored.count(key)) << key << " acknowledged, then lost";
  std::printf("member %d killed under 4 writers: %d writes acknowledged in all, %d after the kill; none lost\n", member,
              static_cast<int>(acknowledged), static_cast<int>(acknowledged) - at_kill);
}

TEST(EtcdStoreTest, TheLeadersCompactorCompactsEtcdToTheKeptHistory) {
  auto cluster = StartCluster(1);
  ASSERT_TRUE(cluster);
  auto store = OpenStore(cluster->StoreOptions());
  ASSERT_TRUE(store);
  int64_t first = *store->CommitAndWait({Put("/k", "0")});
  for (int i = 1; i < 30; ++i) ASSERT_TRUE(store->CommitAndWait({Put("/k", absl::StrCat(i))}).ok());
  EtcdCompactor compactor(*store, 10);
  absl::StatusOr<ReconcileResult> ran = compactor.Reconcile(kCompactKey);
  ASSERT_TRUE(ran.ok()) << ran.status();
  EXPECT_EQ(ran->requeue_after, absl::Minutes(5));
  // etcd itself no longer has the old revisions, and a second run finds nothing to do.
  etcdserverpb::RangeRequest old;
  old.set_key("/opctl/k");
  old.set_revision(first);
  absl::StatusOr<etcdserverpb::RangeResponse> read = store->client().Range(old);
  EXPECT_TRUE(absl::IsOutOfRange(read.status())) << read.status();
  EXPECT_TRUE(compactor.Reconcile(kCompactKey).ok());
  // What is kept is still there to resume from.
  EXPECT_TRUE(store->EventsAfter(store->Revision() - 10).ok());
}

}  // namespace
}  // namespace opctl::controller
