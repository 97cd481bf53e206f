#include "agent/host_safety.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

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

TEST(HostSafety, ASymlinkIntoAProtectedTreeIsRefusedOnTheNode) {
  std::string dir = testing::MakeTempDir("opctl-host-safety");
  ASSERT_FALSE(dir.empty());
  std::filesystem::create_directories(dir + "/real");
  std::filesystem::create_directory_symlink("/etc", dir + "/sneaky");
  v1::ContainerTemplate spec;
  spec.add_volume_mounts()->set_host_path(dir + "/real");
  EXPECT_TRUE(CheckHostPaths(spec).ok());
  spec.add_volume_mounts()->set_host_path(dir + "/sneaky/ssl");
  absl::Status refused = CheckHostPaths(spec);
  EXPECT_TRUE(absl::IsFailedPrecondition(refused));
  EXPECT_THAT(refused.message(), HasSubstr("\"/etc/ssl\" is never mounted: /etc is the host's configuration"));
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace opctl::agent
