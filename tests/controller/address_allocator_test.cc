#include "controller/address_allocator.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace opctl::controller {
namespace {

using ::testing::HasSubstr;

v1::Object NetworkObject(const std::string& name, const std::string& subnet, const std::string& gateway = "") {
  v1::Object object;
  object.mutable_network()->mutable_metadata()->set_name(name);
  object.mutable_network()->mutable_spec()->set_subnet(subnet);
  object.mutable_network()->mutable_spec()->set_gateway(gateway);
  return object;
}

v1::Object ServiceWith(const std::string& network, std::vector<std::string> addresses) {
  v1::Object object;
  v1::ServiceNetwork* attached = object.mutable_service()->mutable_spec()->mutable_network();
  attached->set_name(network);
  for (const std::string& address : addresses) attached->add_addresses(address);
  return object;
}

v1::Object ContainerAt(const std::string& network, const std::string& address) {
  v1::Object object;
  v1::ContainerNetwork* attached = object.mutable_container()->mutable_spec()->mutable_network();
  attached->set_name(network);
  attached->set_ipv4_address(address);
  return object;
}

v1::ContainerSpec On(const std::string& network) {
  v1::ContainerSpec spec;
  spec.mutable_network()->set_name(network);
  return spec;
}

TEST(AddressAllocator, GivesTheLowestAddressNobodyHoldsOrReserves) {
  AddressAllocator addresses({NetworkObject("net", "10.9.0.0/29")}, {ServiceWith("net", {"10.9.0.2", "10.9.0.4"})},
                             {ContainerAt("net", "10.9.0.3")});
  v1::ContainerSpec first = On("net"), second = On("net"), third = On("net");
  ASSERT_TRUE(addresses.Needs(first));
  ASSERT_TRUE(addresses.Assign(first).ok());
  ASSERT_TRUE(addresses.Assign(second).ok());
  EXPECT_EQ(first.network().ipv4_address(), "10.9.0.5");  // .1 gateway, .2/.4 reserved, .3 held
  EXPECT_EQ(second.network().ipv4_address(), "10.9.0.6");
  EXPECT_FALSE(addresses.Needs(first));
  absl::Status full = addresses.Assign(third);  // .7 is the broadcast address
  ASSERT_FALSE(full.ok());
  EXPECT_THAT(std::string(full.message()), HasSubstr("network net's subnet 10.9.0.0/29 has no free address left"));
  EXPECT_TRUE(third.network().ipv4_address().empty());
}

TEST(AddressAllocator, LeavesStaticAddressesAndNetworksWithoutASubnetAlone) {
  AddressAllocator addresses({NetworkObject("net", "10.9.0.0/24", "10.9.0.254"), NetworkObject("docker", "")}, {}, {});
  v1::ContainerSpec fixed = On("net");
  fixed.mutable_network()->set_ipv4_address("10.9.0.77");
  EXPECT_FALSE(addresses.Needs(fixed));
  v1::ContainerSpec docker = On("docker");
  EXPECT_FALSE(addresses.Needs(docker));
  v1::ContainerSpec both = On("net");
  both.add_additional_networks()->set_name("docker");
  ASSERT_TRUE(addresses.Assign(both).ok());
  EXPECT_EQ(both.network().ipv4_address(), "10.9.0.1");  // the gateway is .254 here
  EXPECT_TRUE(both.additional_networks(0).ipv4_address().empty());
}

}  // namespace
}  // namespace opctl::controller
