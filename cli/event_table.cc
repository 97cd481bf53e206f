#include "cli/event_table.h"

#include <algorithm>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "cli/output.h"
#include "common/clock.h"
#include "common/object.h"

namespace opctl::cli {
namespace {

std::string Since(const std::string& timestamp, absl::Time now) {
  absl::Time at = ParseTimestamp(timestamp);
  return at == absl::InfinitePast() ? "<unknown>" : FormatAge(now - at);
}

// "12s", or "12s (x40 over 5m)" for an Event that folded several occurrences.
std::string LastSeen(const v1::Event& event, absl::Time now) {
  std::string last = Since(event.last_timestamp(), now);
  if (event.count() <= 1) return last;
  return absl::StrCat(last, " (x", event.count(), " over ", Since(event.first_timestamp(), now), ")");
}

std::string Source(const v1::Event& event) {
  if (event.reporting_node().empty()) return event.reporting_component();
  return absl::StrCat(event.reporting_component(), ", ", event.reporting_node());
}

}  // namespace

std::vector<std::string> EventHeader(bool wide) {
  if (wide) return {"LAST SEEN", "TYPE", "REASON", "OBJECT", "SOURCE", "FIRST SEEN", "COUNT", "NAME", "MESSAGE"};
  return {"LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"};
}

std::vector<std::string> EventRow(const v1::Event& event, bool wide, absl::Time now) {
  std::string object = DisplayName(event.involved_object().kind(), event.involved_object().name());
  if (wide) {
    return {Since(event.last_timestamp(), now),
            event.type(),
            event.reason(),
            object,
            Source(event),
            Since(event.first_timestamp(), now),
            absl::StrCat(event.count()),
            event.metadata().name(),
            event.message()};
  }
  return {LastSeen(event, now), event.type(), event.reason(), object, event.message()};
}

void SortByLastSeen(std::vector<v1::Object>& events) {
  std::stable_sort(events.begin(), events.end(), [](const v1::Object& a, const v1::Object& b) {
    return ParseTimestamp(a.event().last_timestamp()) < ParseTimestamp(b.event().last_timestamp());
  });
}

std::string DescribeEvents(std::vector<v1::Object> events, absl::Time now) {
  if (events.empty()) return "Events:\n  <none>\n";
  SortByLastSeen(events);
  std::vector<std::vector<std::string>> rows = {{"Type", "Reason", "Age", "From", "Message"},
                                                {"----", "------", "----", "----", "-------"}};
  for (const v1::Object& object : events) {
    const v1::Event& event = object.event();
    rows.push_back({event.type(), event.reason(), LastSeen(event, now), Source(event), event.message()});
  }
  std::string out = "Events:\n";
  std::istringstream table(FormatRows(rows));
  for (std::string line; std::getline(table, line);) absl::StrAppend(&out, "  ", line, "\n");
  return out;
}

}  // namespace opctl::cli
