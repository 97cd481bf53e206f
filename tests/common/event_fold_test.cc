#include "common/event_fold.h"

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/field_selector.h"

namespace opctl {
namespace {

const absl::Time kStart = absl::FromUnixSeconds(1'700'000'000);

EventOccurrence Restarted(const std::string& container, const std::string& message = "exit code 1") {
  return {.kind = "Container", .name = container, .type = kEventWarning, .reason = "BackOff", .message = message};
}

TEST(EventFoldTest, AThousandRestartsOfOneContainerFoldIntoOneEventWithCountAThousand) {
  EventFold fold;
  for (int i = 0; i < 1000; ++i) {
    fold.Add(EventOf(Restarted("crash-0", "exit code " + std::to_string(i)), kStart + absl::Seconds(i), kAgentComponent,
                     "node-a"));
  }
  std::vector<v1::Event> events = fold.Take();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].count(), 1000);
  EXPECT_EQ(events[0].message(), "exit code 999");  // the latest occurrence's
  EXPECT_EQ(ParseTimestamp(events[0].first_timestamp()), kStart);
  EXPECT_EQ(ParseTimestamp(events[0].last_timestamp()), kStart + absl::Seconds(999));
  EXPECT_TRUE(fold.Take().empty()) << "Take empties the fold";
}

TEST(EventFoldTest, ObjectsReasonsAndReportersKeepTheirOwnEvents) {
  EventFold fold;
  fold.Add(EventOf(Restarted("a"), kStart, kAgentComponent, "node-a"));
  fold.Add(EventOf(Restarted("b"), kStart, kAgentComponent, "node-a"));
  fold.Add(EventOf(Restarted("a"), kStart, kAgentComponent, "node-b"));
  EventOccurrence unhealthy = Restarted("a");
  unhealthy.reason = "Unhealthy";
  fold.Add(EventOf(unhealthy, kStart, kAgentComponent, "node-a"));
  EXPECT_EQ(fold.Take().size(), 4u);
}

TEST(EventFoldTest, TheNameIsTheSameInEveryProcessAndNamesTheObject) {
  v1::Event event = EventOf(Restarted("redis-master-0"), kStart, kAgentComponent, "vm");
  // A fixed value: FNV-1a of the folding fields, not a per-process seeded hash.
  EXPECT_EQ(EventObjectName(event),
            EventObjectName(EventOf(Restarted("redis-master-0"), kStart + absl::Hours(1), kAgentComponent, "vm")));
  EXPECT_EQ(EventObjectName(event).rfind("redis-master-0.", 0), 0u) << EventObjectName(event);
  EXPECT_EQ(EventObjectName(event).size(), std::string("redis-master-0.").size() + 16);
  EXPECT_NE(EventObjectName(event),
            EventObjectName(EventOf(Restarted("redis-master-0"), kStart, kAgentComponent, "x")));
}

TEST(EventFoldTest, AFullFoldDropsNewEventsCountsThemAndStillFoldsKnownOnes) {
  EventFold fold(2);
  fold.Add(EventOf(Restarted("a"), kStart, kAgentComponent, ""));
  fold.Add(EventOf(Restarted("b"), kStart, kAgentComponent, ""));
  fold.Add(EventOf(Restarted("c"), kStart, kAgentComponent, ""));
  fold.Add(EventOf(Restarted("a"), kStart, kAgentComponent, ""));
  EXPECT_EQ(fold.dropped(), 1);
  std::vector<v1::Event> events = fold.Take();
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].involved_object().name() == "a" ? events[0].count() : events[1].count(), 2);
}

TEST(EventFoldTest, ALimitedTakeGivesThoseWaitingLongestAndKeepsTheRestFolding) {
  EventFold fold;
  for (const char* name : {"c", "a", "b"}) fold.Add(EventOf(Restarted(name), kStart, kAgentComponent, ""));
  std::vector<v1::Event> first = fold.Take(2);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].involved_object().name(), "c");
  EXPECT_EQ(first[1].involved_object().name(), "a");
  fold.Add(EventOf(Restarted("b"), kStart, kAgentComponent, ""));
  fold.Add(EventOf(Restarted("d"), kStart, kAgentComponent, ""));
  std::vector<v1::Event> rest = fold.Take(1);
  ASSERT_EQ(rest.size(), 1u);
  EXPECT_EQ(rest[0].involved_object().name(), "b") << "it waited before d came";
  EXPECT_EQ(rest[0].count(), 2) << "and went on folding meanwhile";
  EXPECT_EQ(fold.Take().size(), 1u);
}

TEST(EventFoldTest, FoldingKeepsTheEarliestFirstAndTheLatestLastWhateverTheOrder) {
  v1::Event later = EventOf(Restarted("a", "later"), kStart + absl::Seconds(10), kAgentComponent, "");
  v1::Event earlier = EventOf(Restarted("a", "earlier"), kStart, kAgentComponent, "");
  FoldEvent(later, earlier);
  EXPECT_EQ(later.count(), 2);
  EXPECT_EQ(ParseTimestamp(later.first_timestamp()), kStart);
  EXPECT_EQ(ParseTimestamp(later.last_timestamp()), kStart + absl::Seconds(10));
  EXPECT_EQ(later.message(), "later");
  v1::Event huge = later;
  huge.set_count(INT32_MAX - 1);
  FoldEvent(huge, later);
  EXPECT_EQ(huge.count(), INT32_MAX) << "saturates, never wraps";
}

v1::Object AsObject(const v1::Event& event) {
  v1::Object object;
  *object.mutable_event() = event;
  return object;
}

TEST(FieldSelectorTest, SelectsEventsByInvolvedObjectReasonAndType) {
  v1::Object backoff = AsObject(EventOf(Restarted("redis-master-0"), kStart, kAgentComponent, "vm"));
  absl::StatusOr<FieldSelector> about =
      FieldSelector::Parse("involvedObject.kind=container,involvedObject.name=redis-master-0", "Event");
  ASSERT_TRUE(about.ok()) << about.status();
  EXPECT_TRUE(about->Matches(backoff)) << "kinds compare by any of their names";
  EXPECT_FALSE(FieldSelector::Parse("involvedObject.name=redis-master-1", "events")->Matches(backoff));
  EXPECT_TRUE(FieldSelector::Parse("reason=BackOff,type!=Normal", "Event")->Matches(backoff));
  EXPECT_FALSE(FieldSelector::Parse("type==Normal", "Event")->Matches(backoff));
  v1::Object service;
  service.mutable_service()->mutable_metadata()->set_name("redis");
  EXPECT_TRUE(FieldSelector::Parse("metadata.name=redis", "Service")->Matches(service));
  EXPECT_FALSE(FieldSelector::Parse("reason=BackOff", "")->Matches(service)) << "a watch of every kind";
}

TEST(FieldSelectorTest, UnknownFieldsAndMalformedTermsAreRefusedNamingThem) {
  absl::StatusOr<FieldSelector> unknown = FieldSelector::Parse("spec.image=redis", "Event");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("spec.image"), std::string::npos) << unknown.status();
  absl::StatusOr<FieldSelector> not_on_services = FieldSelector::Parse("reason=BackOff", "Service");
  ASSERT_FALSE(not_on_services.ok());
  EXPECT_NE(not_on_services.status().message().find("Events also have"), std::string::npos);
  for (const std::string& bad : std::vector<std::string>{"reason", "=x", "reason=BackOff,", std::string(5000, 'a')}) {
    EXPECT_FALSE(FieldSelector::Parse(bad, "Event").ok()) << bad;
  }
}

}  // namespace
}  // namespace opctl
