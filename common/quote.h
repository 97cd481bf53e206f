// Values echoed in error messages and logs: cut to a short prefix, so that one huge value in a
// request cannot flood a terminal, a log or a gRPC trailer. Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"

namespace opctl {

inline constexpr size_t kMaxQuotedBytes = 80;

// `value` itself when short; else its first kMaxQuotedBytes bytes (never splitting a UTF-8
// character), "...", and its length: `abcd... (200000 bytes)`.
std::string Clip(absl::string_view value);
// Clip(value) between double quotes: `"abcd"`, `"abcd..." (200000 bytes)`.
std::string Quote(absl::string_view value);

}  // namespace opctl
