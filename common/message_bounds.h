// Size and shape bounds of a message, checked before any rule reads its values: every string field at
// most a length, every list and map at most a number of entries. Walks the message by reflection, so
// a field added to the API later is bounded too; linear in the message's size. Thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "google/protobuf/message.h"

namespace opctl {

struct MessageBounds {
  // The kernel's own limit on one argument or environment string (MAX_ARG_STRLEN).
  size_t max_string_bytes = 128 << 10;
  size_t max_entries = 10000;  // per list or map
  size_t max_violations = 20;  // reported at most (the walk stops there)
};

struct BoundViolation {
  std::string field;  // "spec.template.env[3].name", JSON names from `path` down
  std::string message;
};

// Every string longer, and every list or map with more entries, than `bounds` allows in `message`
// (whose own field path is `path`, "" for a top-level message).
std::vector<BoundViolation> CheckBounds(const google::protobuf::Message& message, const std::string& path,
                                        const MessageBounds& bounds = {});

// Drops the fields `message` and its messages carry that this build does not know (a newer client's),
// so nothing is stored unseen by the checks. Maps are left alone: their entries hold only strings.
// (protobuf's own DiscardUnknownFields walks maps through their repeated-field view, which crashed
// under ThreadSanitizer with Debian's protobuf 3.21.)
void DropUnknownFields(google::protobuf::Message* message);

}  // namespace opctl
