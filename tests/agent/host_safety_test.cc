#include "agent/host_safety.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "agent/host_routes.h"
#include "tests/support/process.h"

namespace opctl::agent {
namespace {

using ::testing::HasSubstr;

TEST(HostSafety, RootUsersAreNamedByNameOrUidZero) {
  for (const char* root : {"", "root", "0", "00", "0:0", "root:staff", ":1000"}) EXPECT_TRUE(IsRootUser(root)) << root;
  for (const char* other : {"redis", "999", "999:0", "65534:65534", "rooted", "10"}) {
    EXPECT_FALSE(IsRootUser(other)) << other;
  }
}

TEST(HostSafety, AnImageUserOfRootNeedsTheManifestToSayRoot) {
  v1::ContainerTemplate spec;
  spec.set_image("opctl/busybox:root");
  EXPECT_FALSE(CheckRunsAsNonRoot(spec, {"sha256:1", "root"}).ok());
  EXPECT_FALSE(CheckRunsAsNonRoot(spec, {"sha256:1", ""}).ok());
  EXPECT_TRUE(CheckRunsAsNonRoot(spec, {"sha256:1", "redis"}).ok());
  spec.set_user("0");
  EXPECT_TRUE(CheckRunsAsNonRoot(spec, {"sha256:1", ""}).ok());
}

class HostPathTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("opctl-host-safety");
    ASSERT_FALSE(dir_.empty());
    root_ = dir_ + "/root";
    std::filesystem::create_directories(root_ + "/real");
    std::filesystem::create_directories(dir_ + "/elsewhere");
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  absl::StatusOr<std::vector<std::string>> Resolve(const std::string& host_path,
                                                   const std::vector<ProtectedTree>& extra = {}) {
    v1::ContainerTemplate spec;
    spec.add_volume_mounts()->set_name("a-volume");
    spec.add_volume_mounts()->set_host_path(host_path);
    return ResolveHostPaths(spec, {root_}, extra);
  }

  std::string dir_, root_;
};

TEST_F(HostPathTest, APathUnderTheRootsResolvesToItself) {
  absl::StatusOr<std::vector<std::string>> resolved = Resolve(root_ + "/real");
  ASSERT_TRUE(resolved.ok()) << resolved.status();
  EXPECT_THAT(*resolved, ::testing::ElementsAre("", std::filesystem::canonical(root_ + "/real").string()));
}

TEST_F(HostPathTest, ASymlinkIntoAProtectedTreeIsRefusedOnTheNode) {
  std::filesystem::create_directory_symlink("/etc", root_ + "/sneaky");
  absl::StatusOr<std::vector<std::string>> refused = Resolve(root_ + "/sneaky/ssl");
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_THAT(refused.status().message(), HasSubstr("\"/etc/ssl\" is never mounted: /etc is the host's configuration"));
}

// The audit's escape: a symlink under the root that leads to a directory nobody protects by name.
TEST_F(HostPathTest, ASymlinkOutOfTheRootsIsRefusedWhereverItLeads) {
  std::filesystem::create_directory_symlink(dir_ + "/elsewhere", root_ + "/out");
  absl::StatusOr<std::vector<std::string>> refused = Resolve(root_ + "/out");
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_THAT(refused.status().message(), HasSubstr("outside the controller policy's hostPathRoots"));
}

// root/link/.. is root to the eye and the parent of link's target to the kernel.
TEST_F(HostPathTest, DotDotAfterASymlinkIsFollowedAsTheKernelDoes) {
  std::filesystem::create_directories(dir_ + "/elsewhere/deep");
  std::filesystem::create_directory_symlink(dir_ + "/elsewhere/deep", root_ + "/link");
  absl::StatusOr<std::vector<std::string>> refused = Resolve(root_ + "/link/..");
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_THAT(refused.status().message(), HasSubstr("/elsewhere"));
}

TEST_F(HostPathTest, AMissingPathAndTheAgentsOwnTreesAreRefused) {
  EXPECT_THAT(Resolve(root_ + "/missing").status().message(), HasSubstr("must exist"));
  absl::StatusOr<std::vector<std::string>> refused = Resolve(root_ + "/real", {{root_ + "/real", "backups"}});
  EXPECT_TRUE(absl::IsFailedPrecondition(refused.status()));
  EXPECT_THAT(refused.status().message(), HasSubstr("is backups"));
}

// The audit's L17: a Network may not take over one of the host's own routes (its LAN, the way to its
// controller); Docker's own bridges and the default route do not count.
TEST(HostRoutes, ASubnetOverlappingAHostRouteIsFound) {
  const std::string routes =
      "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"
      "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
      "docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0\n"
      "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
  auto subnet = [](const char* text) { return *ParseIpv4Subnet(text); };
  EXPECT_EQ(OverlappingRoute(subnet("192.0.2.0/24"), routes), "192.0.2.0/24 via eth0");
  EXPECT_EQ(OverlappingRoute(subnet("192.0.0.0/16"), routes), "192.0.2.0/24 via eth0") << "one that holds it";
  EXPECT_EQ(OverlappingRoute(subnet("192.0.2.128/25"), routes), "192.0.2.0/24 via eth0") << "one inside it";
  EXPECT_EQ(OverlappingRoute(subnet("172.17.0.0/16"), routes), std::nullopt) << "Docker's own bridge: Docker checks";
  EXPECT_EQ(OverlappingRoute(subnet("10.1.0.0/24"), routes), std::nullopt) << "only the default route covers it";
}

}  // namespace
}  // namespace opctl::agent
