#include "agent/host_routes.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace opctl::agent {
namespace {

// /proc/net/route writes addresses as the kernel holds them: network byte order read as a
// little-endian hexadecimal word.
bool ParseHexAddress(absl::string_view text, uint32_t& address) {
  uint32_t raw = 0;
  if (!absl::SimpleHexAtoi(text, &raw)) return false;
  address = (raw & 0xff) << 24 | ((raw >> 8) & 0xff) << 16 | ((raw >> 16) & 0xff) << 8 | raw >> 24;
  return true;
}

int PrefixLength(uint32_t mask) {
  int length = 0;
  while (length < 32 && (mask & (uint32_t{1} << (31 - length)))) ++length;
  return length;
}

bool IsDockers(absl::string_view interface) {
  return interface == "docker0" || absl::StartsWith(interface, "br-") || absl::StartsWith(interface, "veth");
}

}  // namespace

std::optional<std::string> OverlappingRoute(const Ipv4Subnet& subnet, const std::string& routes) {
  std::istringstream lines(routes);
  std::string line;
  std::getline(lines, line);  // the header
  while (std::getline(lines, line)) {
    std::vector<absl::string_view> fields = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (fields.size() < 8 || IsDockers(fields[0])) continue;
    uint32_t destination = 0, mask = 0;
    if (!ParseHexAddress(fields[1], destination) || !ParseHexAddress(fields[7], mask) || mask == 0) continue;
    Ipv4Subnet route{destination & mask, PrefixLength(mask)};
    if (subnet.Contains(route.network) || route.Contains(subnet.network)) {
      return absl::StrCat(FormatIpv4(route.network), "/", route.prefix_length, " via ", fields[0]);
    }
  }
  return std::nullopt;
}

std::optional<std::string> OverlappingHostRoute(const Ipv4Subnet& subnet) {
  std::ifstream in("/proc/net/route");
  if (!in) return std::nullopt;
  std::stringstream text;
  text << in.rdbuf();
  return OverlappingRoute(subnet, text.str());
}

}  // namespace opctl::agent
