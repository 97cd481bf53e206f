#include "common/ipv4.h"

#include <gtest/gtest.h>

namespace opctl {
namespace {

TEST(Ipv4, ParsesAndFormats) {
  absl::StatusOr<uint32_t> address = ParseIpv4("172.19.0.2");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(FormatIpv4(*address), "172.19.0.2");
  for (const char* bad : {"172.19.0", "172.19.0.256", "a.b.c.d", "172.019.0.2", "", "1.2.3.4.5"}) {
    EXPECT_FALSE(ParseIpv4(bad).ok()) << bad;
  }
}

TEST(Ipv4Subnet, ParsesCidr) {
  absl::StatusOr<Ipv4Subnet> subnet = ParseIpv4Subnet("172.19.0.0/16");
  ASSERT_TRUE(subnet.ok());
  EXPECT_EQ(FormatIpv4(subnet->broadcast()), "172.19.255.255");
  EXPECT_EQ(FormatIpv4(subnet->first_host()), "172.19.0.1");
  EXPECT_TRUE(subnet->Contains(*ParseIpv4("172.19.3.4")));
  EXPECT_FALSE(subnet->Contains(*ParseIpv4("172.20.0.1")));
}

TEST(Ipv4Subnet, RejectsHostBitsAndBadPrefixes) {
  absl::StatusOr<Ipv4Subnet> host_bits = ParseIpv4Subnet("172.19.0.1/16");
  ASSERT_FALSE(host_bits.ok());
  EXPECT_NE(host_bits.status().message().find("did you mean 172.19.0.0/16"), std::string::npos);
  for (const char* bad : {"172.19.0.0", "172.19.0.0/33", "172.19.0.0/31", "172.19.0.0/x", "300.0.0.0/8"}) {
    EXPECT_FALSE(ParseIpv4Subnet(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace opctl
