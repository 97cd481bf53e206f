// IPv4 addresses and CIDR subnets, as manifests write them. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace opctl {

// Parses a dotted quad ("172.19.0.2") into host byte order. InvalidArgument otherwise.
absl::StatusOr<uint32_t> ParseIpv4(absl::string_view text);
std::string FormatIpv4(uint32_t address);

struct Ipv4Subnet {
  uint32_t network = 0;  // host bits zero
  int prefix_length = 0;

  uint32_t mask() const { return prefix_length == 0 ? 0 : ~uint32_t{0} << (32 - prefix_length); }
  uint32_t broadcast() const { return network | ~mask(); }
  uint32_t first_host() const { return network + 1; }
  bool Contains(uint32_t address) const { return (address & mask()) == network; }
};

// Parses "172.19.0.0/16". InvalidArgument when malformed, when host bits are set or when the prefix
// leaves no room for a gateway and one container (longer than /30).
absl::StatusOr<Ipv4Subnet> ParseIpv4Subnet(absl::string_view text);

// The MAC address of a container's endpoint at `address`: 02:42 and the address' four bytes, as
// Docker derived it before version 25. The agent sets it on every endpoint it creates, so any node
// knows a remote container's MAC from its address alone.
std::string MacAddressFor(uint32_t address);

}  // namespace opctl
