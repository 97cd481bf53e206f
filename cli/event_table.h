// How Events print, as kubectl prints them: `get events` (LAST SEEN with "(xN over D)" for folded
// ones, TYPE, REASON, OBJECT, MESSAGE; -o wide adds SOURCE, FIRST SEEN, COUNT and NAME) and the
// Events section `describe` ends with.
#pragma once

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::cli {

std::vector<std::string> EventHeader(bool wide);
std::vector<std::string> EventRow(const v1::Event& event, bool wide, absl::Time now);
// Oldest last occurrence first, so the latest prints last, next to the prompt.
void SortByLastSeen(std::vector<v1::Object>& events);
// "Events:" and a table of `events` (Type, Reason, Age, From, Message), indented; "<none>" if empty.
std::string DescribeEvents(std::vector<v1::Object> events, absl::Time now);

}  // namespace opctl::cli
