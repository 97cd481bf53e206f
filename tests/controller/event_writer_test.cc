// The controller's Events over the real SQLite store: folding into what is stored, the agents'
// reports, expiry and the bound.
#include "controller/events/event_writer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>

#include "common/api_names.h"
#include "controller/store/forwarding_store.h"
#include "controller/store/sqlite_store.h"
#include "tests/support/process.h"

namespace opctl::controller {
namespace {

class EventWriterTest : public ::testing::Test {
 protected:
  std::vector<v1::Object> Stored() { return registry_.ListKind(kKindEvent); }
  void Flush(EventWriter& writer) { ASSERT_TRUE(writer.Reconcile(kEventFlushKey).ok()); }

  // Commits fail while `failing`.
  struct FailingStore : ForwardingStore {
    using ForwardingStore::ForwardingStore;
    using Store::Commit;
    void Commit(Transaction transaction, CommitCallback done) override {
      if (failing) return done(absl::ResourceExhaustedError("disk full"));
      inner_.Commit(std::move(transaction), std::move(done));
    }
    std::atomic<bool> failing{false};
  };

  std::unique_ptr<SqliteStore> sqlite_ = *SqliteStore::Open(opctl::testing::MakeTempDir("opctl-events"));
  FailingStore store_{*sqlite_};
  ManualClock clock_;
  Registry registry_{store_, clock_};
  EventWriter writer_{registry_, clock_, {.ttl = absl::Hours(1), .max_events = 5}};
};

EventOccurrence Occurrence(const std::string& name, const std::string& reason = "Scheduled") {
  return {.kind = kKindContainer, .name = name, .stack = "redis", .reason = reason, .message = "assigned to node vm"};
}

TEST_F(EventWriterTest, OccurrencesFoldInMemoryAndIntoTheStoredEventAcrossFlushes) {
  for (int i = 0; i < 600; ++i) writer_.Record(Occurrence("redis-master-0"));
  EXPECT_TRUE(Stored().empty()) << "nothing is written before the flush";
  Flush(writer_);
  for (int i = 0; i < 400; ++i) writer_.Record(Occurrence("redis-master-0"));
  Flush(writer_);
  std::vector<v1::Object> events = Stored();
  ASSERT_EQ(events.size(), 1u);
  const v1::Event& event = events[0].event();
  EXPECT_EQ(event.count(), 1000);
  EXPECT_EQ(event.involved_object().kind(), kKindContainer);
  EXPECT_EQ(event.involved_object().name(), "redis-master-0");
  EXPECT_EQ(event.metadata().stack(), "redis") << "listed and watched by stack with its object";
  EXPECT_EQ(event.reporting_component(), kControllerComponent);
  EXPECT_EQ(event.kind(), kKindEvent);
  EXPECT_FALSE(event.metadata().uid().empty());
}

TEST_F(EventWriterTest, AnotherControllerFoldsIntoTheSameStoredEvent) {
  EventWriter other(registry_, clock_);
  writer_.Record(Occurrence("a"));
  other.Record(Occurrence("a"));
  Flush(writer_);
  Flush(other);
  ASSERT_EQ(Stored().size(), 1u);
  EXPECT_EQ(Stored()[0].event().count(), 2);
}

TEST_F(EventWriterTest, AnAgentsReportIsStoredAsItsNodesWhateverItClaims) {
  v1::Event reported = EventOf(Occurrence("a", "BackOff"), clock_.Now(), "someone-else", "another-node");
  reported.set_count(7);
  writer_.Report("vm", {reported});
  Flush(writer_);
  std::vector<v1::Object> stored = Stored();
  ASSERT_EQ(stored.size(), 1u);
  const v1::Event& event = stored[0].event();
  EXPECT_EQ(event.count(), 7);
  EXPECT_EQ(event.reporting_component(), kAgentComponent);
  EXPECT_EQ(event.reporting_node(), "vm");
}

TEST_F(EventWriterTest, EventsExpireAfterTheTtlAndTheOldestGoBeyondTheBound) {
  writer_.Record(Occurrence("old"));
  Flush(writer_);
  clock_.Advance(absl::Minutes(61));
  for (int i = 0; i < 7; ++i) {
    writer_.Record(Occurrence("c" + std::to_string(i)));
    clock_.Advance(absl::Seconds(1));
  }
  clock_.Advance(absl::Seconds(10));  // the expire interval
  Flush(writer_);
  std::vector<std::string> names;
  for (const v1::Object& event : Stored()) names.push_back(event.event().involved_object().name());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"c2", "c3", "c4", "c5", "c6"}))
      << "\"old\" expired; of seven, the five last seen are kept";
}

TEST_F(EventWriterTest, AFloodIsWrittenAFewHundredEventsAFlushNoneLost) {
  EventWriter writer(registry_, clock_, {.max_events = 10000, .max_writes_per_flush = 300});
  for (int i = 0; i < 1000; ++i) writer.Record(Occurrence("c" + std::to_string(i)));
  Flush(writer);
  EXPECT_EQ(Stored().size(), 300u);
  EXPECT_EQ(writer.written(), 300u);
  for (int flush = 0; flush < 3; ++flush) Flush(writer);
  EXPECT_EQ(Stored().size(), 1000u);
  EXPECT_EQ(writer.dropped(), 0);
}

TEST_F(EventWriterTest, AFailedWriteKeepsTheEventsForTheNextFlush) {
  writer_.Record(Occurrence("a"));
  store_.failing = true;  // a full disk, say
  EXPECT_FALSE(writer_.Reconcile(kEventFlushKey).ok());
  writer_.Record(Occurrence("a"));
  store_.failing = false;
  Flush(writer_);
  ASSERT_EQ(Stored().size(), 1u);
  EXPECT_EQ(Stored()[0].event().count(), 2) << "the failed flush's occurrence is not lost";
}

}  // namespace
}  // namespace opctl::controller
