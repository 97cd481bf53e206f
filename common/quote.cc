#include "common/quote.h"

#include "absl/strings/str_cat.h"

namespace opctl {
namespace {

// Where to cut `value` at most `limit` bytes in, backing off to the start of a UTF-8 character.
size_t CutAt(absl::string_view value, size_t limit) {
  size_t cut = limit;
  while (cut > 0 && (static_cast<unsigned char>(value[cut]) & 0xC0) == 0x80) --cut;
  return cut;
}

}  // namespace

std::string Clip(absl::string_view value) {
  if (value.size() <= kMaxQuotedBytes) return std::string(value);
  return absl::StrCat(value.substr(0, CutAt(value, kMaxQuotedBytes)), "... (", value.size(), " bytes)");
}

std::string Quote(absl::string_view value) {
  if (value.size() <= kMaxQuotedBytes) return absl::StrCat("\"", value, "\"");
  return absl::StrCat("\"", value.substr(0, CutAt(value, kMaxQuotedBytes)), "...\" (", value.size(), " bytes)");
}

}  // namespace opctl
