// The controller's data directory on a small tmpfs, filled up: writes fail with a clear error and
// change nothing, reads go on, every acknowledged write stays, and once space returns writes work
// again, also after a restart (whose integrity check must pass). Needs root (mount), as CI has.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sched.h>
#include <sys/mount.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "tests/support/process.h"

namespace opctl {
namespace {

using ::testing::HasSubstr;

std::string NetworkYaml(int index) {
  return absl::StrCat("apiVersion: opctl.io/v1\nkind: Network\nmetadata: {name: full-", index,
                      ", labels: {pad: ", std::string(60, 'p'), "}}\nspec: {subnet: 10.", 100 + index / 250, ".",
                      index % 250, ".0/24}\n");
}

std::set<std::string> StoredNetworks(testing::ControllerProcess& controller) {
  std::set<std::string> names;
  testing::CommandResult listed = controller.Opctl({"get", "networks", "-o", "name"});
  EXPECT_EQ(listed.exit_code, 0) << listed.err;
  for (absl::string_view line : absl::StrSplit(listed.out, '\n', absl::SkipEmpty())) names.insert(std::string(line));
  return names;
}

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // In a mount namespace of the test's own (the controller it starts inherits it), so the tmpfs
    // goes with the process even when it is killed: no mount is ever left behind under the run's
    // directory for the next run to trip on.
    ASSERT_EQ(unshare(CLONE_NEWNS), 0) << "unshare(CLONE_NEWNS): " << std::strerror(errno);
    ASSERT_EQ(mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), 0) << std::strerror(errno);
    mount_point_ = testing::MakeTempDir("opctl-fulldisk");
    ASSERT_EQ(mount("tmpfs", mount_point_.c_str(), "tmpfs", 0, "size=8m"), 0)
        << "mount tmpfs: " << std::strerror(errno);
  }
  void TearDown() override {
    controller_.reset();
    umount2(mount_point_.c_str(), MNT_DETACH);
  }

  std::string mount_point_;
  std::unique_ptr<testing::ControllerProcess> controller_;
};

TEST_F(FullDiskTest, WritesFailClearlyReadsGoOnAndWritesReturnWithSpace) {
  const std::string data_dir = mount_point_ + "/data";
  std::filesystem::create_directories(data_dir);
  auto started = testing::ControllerProcess::Start(data_dir);
  ASSERT_TRUE(started.ok()) << started.status();
  controller_ = *std::move(started);
  const int port = controller_->port();

  // Take all but about 300 KiB of the filesystem, then write until the disk says no.
  const std::string filler = mount_point_ + "/filler";
  std::filesystem::space_info space = std::filesystem::space(mount_point_);
  ASSERT_GT(space.available, 400u << 10);
  std::ofstream(filler) << std::string(space.available - (300u << 10), 'f');
  std::set<std::string> acknowledged;
  testing::CommandResult refused;
  for (int i = 0; i < 5000; ++i) {
    testing::CommandResult result = controller_->Opctl({"apply", "-f", "-"}, NetworkYaml(i));
    if (result.exit_code != 0) {
      refused = result;
      break;
    }
    acknowledged.insert(absl::StrCat("network/full-", i));
  }
  ASSERT_NE(refused.exit_code, 0) << "the disk never filled";
  EXPECT_THAT(refused.err, HasSubstr("disk full"));
  std::printf("disk full after %zu acknowledged writes: %s", acknowledged.size(), refused.err.c_str());

  // Reads go on, and show exactly what was acknowledged.
  EXPECT_EQ(StoredNetworks(*controller_), acknowledged);

  // Space returns: writes work again, and everything survives a restart with its integrity check.
  std::filesystem::remove(filler);
  testing::CommandResult again = controller_->Opctl({"apply", "-f", "-"}, NetworkYaml(4999));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  acknowledged.insert("network/full-4999");
  controller_.reset();  // SIGKILL, as a crash
  started = testing::ControllerProcess::Start(data_dir, port);
  ASSERT_TRUE(started.ok()) << started.status();
  controller_ = *std::move(started);
  EXPECT_EQ(StoredNetworks(*controller_), acknowledged);
}

}  // namespace
}  // namespace opctl
