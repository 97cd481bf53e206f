// Addresses for the containers of Networks with a subnet that have no static one: handed out by the
// controller, not by each host's Docker, so that containers of one Network on different hosts never
// share an address (the Network spans them all). Taken: the network, broadcast and gateway addresses,
// every Service's static addresses (spares included: a scale-up will want them) and every address a
// Container holds. The lowest free one is given. Not thread-safe: one per scheduling pass.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/ipv4.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::controller {

class AddressAllocator {
 public:
  // From the store as it is: every Network, Service and Container.
  AddressAllocator(const std::vector<v1::Object>& networks, const std::vector<v1::Object>& services,
                   const std::vector<v1::Object>& containers);

  // True when one of the container's attachments lacks an address it should get.
  bool Needs(const v1::ContainerSpec& spec) const;
  // Gives each such attachment the lowest free address of its Network. FAILED_PRECONDITION, naming the
  // Network, when its subnet is full; `spec` is then unchanged.
  absl::Status Assign(v1::ContainerSpec& spec);

 private:
  struct Pool {
    Ipv4Subnet subnet;
    std::set<uint32_t> taken;
    uint32_t next = 0;  // everything below is taken
  };
  void Take(const std::string& network, const std::string& address);
  bool Allocates(const v1::ContainerNetwork& attached) const;

  std::map<std::string, Pool> pools_;  // by Network name; only Networks with a subnet
};

}  // namespace opctl::controller
