#include "controller/address_allocator.h"

#include "absl/strings/str_cat.h"

namespace opctl::controller {
namespace {

std::vector<v1::ContainerNetwork*> AttachmentsOf(v1::ContainerSpec& spec) {
  std::vector<v1::ContainerNetwork*> attached;
  if (!spec.network().name().empty()) attached.push_back(spec.mutable_network());
  for (v1::ContainerNetwork& extra : *spec.mutable_additional_networks()) attached.push_back(&extra);
  return attached;
}

}  // namespace

AddressAllocator::AddressAllocator(const std::vector<v1::Object>& networks, const std::vector<v1::Object>& services,
                                   const std::vector<v1::Object>& containers) {
  for (const v1::Object& object : networks) {
    const v1::NetworkSpec& spec = object.network().spec();
    absl::StatusOr<Ipv4Subnet> subnet = ParseIpv4Subnet(spec.subnet());
    if (!subnet.ok()) continue;  // Docker's own addresses, on one host only
    Pool& pool = pools_[object.network().metadata().name()];
    pool.subnet = *subnet;
    pool.next = subnet->first_host();
    absl::StatusOr<uint32_t> gateway = ParseIpv4(spec.gateway());
    pool.taken.insert(gateway.ok() ? *gateway : subnet->first_host());
  }
  for (const v1::Object& object : services) {
    const v1::ServiceSpec& spec = object.service().spec();
    for (const std::string& address : spec.network().addresses()) Take(spec.network().name(), address);
    for (const v1::ServiceNetwork& extra : spec.additional_networks()) {
      for (const std::string& address : extra.addresses()) Take(extra.name(), address);
    }
  }
  for (v1::Object object : containers) {
    for (const v1::ContainerNetwork* attached : AttachmentsOf(*object.mutable_container()->mutable_spec())) {
      Take(attached->name(), attached->ipv4_address());
    }
  }
}

void AddressAllocator::Take(const std::string& network, const std::string& address) {
  auto pool = pools_.find(network);
  absl::StatusOr<uint32_t> parsed = ParseIpv4(address);
  if (pool != pools_.end() && parsed.ok()) pool->second.taken.insert(*parsed);
}

bool AddressAllocator::Allocates(const v1::ContainerNetwork& attached) const {
  return attached.ipv4_address().empty() && pools_.count(attached.name()) > 0;
}

bool AddressAllocator::Needs(const v1::ContainerSpec& spec) const {
  if (Allocates(spec.network())) return true;
  for (const v1::ContainerNetwork& extra : spec.additional_networks()) {
    if (Allocates(extra)) return true;
  }
  return false;
}

absl::Status AddressAllocator::Assign(v1::ContainerSpec& spec) {
  v1::ContainerSpec assigned = spec;
  for (v1::ContainerNetwork* attached : AttachmentsOf(assigned)) {
    if (!Allocates(*attached)) continue;
    Pool& pool = pools_.at(attached->name());
    while (pool.next < pool.subnet.broadcast() && pool.taken.count(pool.next) > 0) ++pool.next;
    if (pool.next >= pool.subnet.broadcast()) {
      return absl::FailedPreconditionError(absl::StrCat("network ", attached->name(), "'s subnet ",
                                                        FormatIpv4(pool.subnet.network), "/", pool.subnet.prefix_length,
                                                        " has no free address left"));
    }
    pool.taken.insert(pool.next);
    attached->set_ipv4_address(FormatIpv4(pool.next));
  }
  spec = std::move(assigned);
  return absl::OkStatus();
}

}  // namespace opctl::controller
