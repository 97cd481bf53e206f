#include "common/quantity.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/quote.h"

namespace opctl {
namespace {

constexpr int64_t kKibi = 1024;
constexpr double kMaxMemoryBytes = 1125899906842624.0;  // 1 PiB
// Longer than any quantity or duration a person writes: refused before it is parsed.
constexpr size_t kMaxQuantityLength = 64;

// Splits "1.5Gi" into the number "1.5" and the suffix "Gi". False when the number part is empty or is
// not a non-negative decimal.
bool SplitNumber(absl::string_view text, double& number, absl::string_view& suffix) {
  size_t end = 0;
  while (end < text.size() && (std::isdigit(static_cast<unsigned char>(text[end])) || text[end] == '.')) {
    ++end;
  }
  if (end == 0) return false;
  std::string digits(text.substr(0, end));
  if (digits.front() == '.' || digits.back() == '.' || std::count(digits.begin(), digits.end(), '.') > 1) {
    return false;
  }
  if (!absl::SimpleAtod(digits, &number)) return false;
  suffix = text.substr(end);
  return true;
}

absl::Status MemoryError(absl::string_view text) {
  return absl::InvalidArgumentError(
      absl::StrCat(Quote(text), " is not a memory quantity (e.g. 512m, 2g, 1Gi, 1.5G or bytes)"));
}

}  // namespace

absl::StatusOr<int64_t> ParseMemoryBytes(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  double number = 0;
  absl::string_view suffix;
  if (text.size() > kMaxQuantityLength || !SplitNumber(text, number, suffix)) return MemoryError(text);
  double multiplier = 0;
  // Kubernetes' decimal suffixes are upper case; compose's lower-case ones are binary, as Docker reads them.
  if (suffix == "K")
    multiplier = 1e3;
  else if (suffix == "M")
    multiplier = 1e6;
  else if (suffix == "G")
    multiplier = 1e9;
  else if (suffix == "T")
    multiplier = 1e12;
  else if (suffix == "Ki")
    multiplier = kKibi;
  else if (suffix == "Mi")
    multiplier = kKibi * kKibi;
  else if (suffix == "Gi")
    multiplier = kKibi * kKibi * kKibi;
  else if (suffix == "Ti")
    multiplier = double(kKibi * kKibi * kKibi) * kKibi;
  else {
    std::string lower = absl::AsciiStrToLower(suffix);
    if (lower.size() == 2 && lower[1] == 'b') lower.pop_back();
    if (lower.empty() || lower == "b")
      multiplier = 1;
    else if (lower == "k")
      multiplier = kKibi;
    else if (lower == "m")
      multiplier = kKibi * kKibi;
    else if (lower == "g")
      multiplier = kKibi * kKibi * kKibi;
    else if (lower == "t")
      multiplier = double(kKibi * kKibi * kKibi) * kKibi;
    else
      return MemoryError(text);
  }
  double bytes = number * multiplier;
  if (bytes > kMaxMemoryBytes) {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is larger than the maximum of 1 PiB"));
  }
  return static_cast<int64_t>(std::floor(bytes));
}

absl::StatusOr<int64_t> ParseMilliCpus(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  double number = 0;
  absl::string_view suffix;
  auto error = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " is not a CPU quantity (e.g. 0.5, 2 or 500m, between 1m and 1024)"));
  };
  if (text.size() > kMaxQuantityLength || !SplitNumber(text, number, suffix)) return error();
  double milli = 0;
  if (suffix.empty())
    milli = number * 1000;
  else if (suffix == "m")
    milli = number;
  else
    return error();
  if (milli < 1 || milli > 1024 * 1000) return error();
  return static_cast<int64_t>(std::llround(milli));
}

absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text) {
  text = absl::StripAsciiWhitespace(text);
  auto error = [&] {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " is not a duration (e.g. 500ms, 5s, 1m30s; units ns, us, ms, s, m, h)"));
  };
  if (text.empty() || text.size() > kMaxQuantityLength) return error();
  absl::Duration total = absl::ZeroDuration();
  absl::string_view rest = text;
  while (!rest.empty()) {
    double number = 0;
    absl::string_view suffix;
    if (!SplitNumber(rest, number, suffix)) return error();
    size_t unit_length = 0;
    while (unit_length < suffix.size() && std::isalpha(static_cast<unsigned char>(suffix[unit_length]))) {
      ++unit_length;
    }
    absl::string_view unit = suffix.substr(0, unit_length);
    if (unit == "ns")
      total += absl::Nanoseconds(number);
    else if (unit == "us")
      total += absl::Microseconds(number);
    else if (unit == "ms")
      total += absl::Milliseconds(number);
    else if (unit == "s")
      total += absl::Seconds(number);
    else if (unit == "m")
      total += absl::Minutes(number);
    else if (unit == "h")
      total += absl::Hours(number);
    else
      return error();
    rest = suffix.substr(unit_length);
  }
  return total;
}

std::string FormatMemoryBytes(int64_t bytes) {
  static constexpr const char* kUnits[] = {"Ki", "Mi", "Gi", "Ti"};
  std::string suffix;
  int64_t value = bytes;
  for (const char* unit : kUnits) {
    if (value == 0 || value % kKibi != 0) break;
    value /= kKibi;
    suffix = unit;
  }
  return absl::StrCat(value, suffix);
}

}  // namespace opctl
