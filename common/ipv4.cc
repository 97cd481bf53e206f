#include "common/ipv4.h"

#include <vector>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/quote.h"

namespace opctl {

absl::StatusOr<uint32_t> ParseIpv4(absl::string_view text) {
  auto error = [&] {
    return absl::InvalidArgumentError(absl::StrCat(Quote(text), " is not an IPv4 address (e.g. 172.19.0.2)"));
  };
  if (text.size() > 15) return error();  // "255.255.255.255"
  std::vector<absl::string_view> parts = absl::StrSplit(text, '.');
  if (parts.size() != 4) return error();
  uint32_t address = 0;
  for (absl::string_view part : parts) {
    uint32_t octet = 0;
    // Leading zeros are refused: "010" reads as octal in some tools and as decimal in others.
    if (part.empty() || part.size() > 3 || (part.size() > 1 && part[0] == '0') || !absl::SimpleAtoi(part, &octet) ||
        octet > 255) {
      return error();
    }
    address = address << 8 | octet;
  }
  return address;
}

std::string FormatIpv4(uint32_t address) {
  return absl::StrCat(address >> 24, ".", (address >> 16) & 255, ".", (address >> 8) & 255, ".", address & 255);
}

absl::StatusOr<Ipv4Subnet> ParseIpv4Subnet(absl::string_view text) {
  auto error = [&](absl::string_view why) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(text), " is not a valid IPv4 subnet: ", why, " (e.g. 172.19.0.0/16)"));
  };
  if (text.size() > 18) return error("too long");  // "255.255.255.255/32"
  std::vector<absl::string_view> parts = absl::StrSplit(text, '/');
  if (parts.size() != 2) return error("expected ADDRESS/PREFIX");
  absl::StatusOr<uint32_t> address = ParseIpv4(parts[0]);
  if (!address.ok()) return error("bad address");
  int prefix = 0;
  if (!absl::SimpleAtoi(parts[1], &prefix) || prefix < 0 || prefix > 32) return error("prefix must be 0 to 32");
  if (prefix > 30) return error("prefix longer than /30 leaves no room for containers");
  Ipv4Subnet subnet{*address, prefix};
  if ((*address & ~subnet.mask()) != 0) {
    return error(
        absl::StrCat("host bits are set; did you mean ", FormatIpv4(*address & subnet.mask()), "/", prefix, "?"));
  }
  return subnet;
}

std::string MacAddressFor(uint32_t address) {
  return absl::StrFormat("02:42:%02x:%02x:%02x:%02x", address >> 24, (address >> 16) & 0xff, (address >> 8) & 0xff,
                         address & 0xff);
}

}  // namespace opctl
