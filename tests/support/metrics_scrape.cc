#include "tests/support/metrics_scrape.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "tests/support/process.h"

namespace opctl::testing {

std::string MetricsAddress(const std::string& output) {
  const std::string kSaid = "metrics on http://";
  size_t at = output.find(kSaid);
  if (at == std::string::npos) return "";
  at += kSaid.size();
  return output.substr(at, output.find("/metrics", at) - at);
}

std::string Scrape(const std::string& address) {
  CommandResult result = RunCommand({"curl", "-sf", "--max-time", "10", "http://" + address + "/metrics"});
  return result.exit_code == 0 ? result.out : "";
}

double Sample(const std::string& scrape, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(scrape, '\n')) {
    if (!absl::StartsWith(line, series + " ")) continue;
    double value = -1;
    return absl::SimpleAtod(line.substr(series.size() + 1), &value) ? value : -1;
  }
  return -1;
}

}  // namespace opctl::testing
