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

}  // namespace
}  // namespace opctl::agent
