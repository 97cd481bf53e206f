// The host's own IPv4 routes (/proc/net/route): a Network whose subnet overlaps one would take that
// traffic into a Docker bridge, and may cut the host off its LAN or its controller (the agent's lease
// then lapses, and its node fences). Docker's own bridges are left out: Docker checks those itself.
// Pure functions over the table's text; thread-safe.
#pragma once

#include <optional>
#include <string>

#include "common/ipv4.h"

namespace opctl::agent {

// The route of `routes` (the text of /proc/net/route) that `subnet` overlaps, as "10.0.2.0/24 via
// eth0"; nullopt when none does. The default route (0.0.0.0/0) and Docker's interfaces (docker0,
// br-*, veth*) do not count.
std::optional<std::string> OverlappingRoute(const Ipv4Subnet& subnet, const std::string& routes);

// OverlappingRoute on this host's table (nullopt when it cannot be read).
std::optional<std::string> OverlappingHostRoute(const Ipv4Subnet& subnet);

}  // namespace opctl::agent
