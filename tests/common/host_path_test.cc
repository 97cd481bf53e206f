#include "common/host_path.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace opctl {
namespace {

using ::testing::HasSubstr;

TEST(HostPath, NormalFormDropsDotsAndTrailingSlashes) {
  EXPECT_EQ(NormalHostPath("/srv/data/"), "/srv/data");
  EXPECT_EQ(NormalHostPath("/srv/x/../y//z/."), "/srv/y/z");
  EXPECT_EQ(NormalHostPath("/srv/../../"), "/");
}

TEST(HostPath, ProtectedTreesAndWhatHoldsThemAreNeverMounted) {
  for (const char* path : {"/",
                           "/etc",
                           "/etc/",
                           "/etc/ssl/certs",
                           "/var/run/docker.sock",
                           "/run/docker.sock",
                           "/var",
                           "/run",
                           "/var/run",
                           "/var/lib",
                           "/var/lib/docker/volumes",
                           "/proc/1",
                           "/sys",
                           "/dev",
                           "/srv/../etc/passwd",
                           "/boot",
                           "/root/.ssh",
                           "/usr/local/bin",
                           "/bin",
                           "/lib64",
                           "/var/spool/cron/crontabs",
                           "/var/lib/containerd",
                           "/run/containerd/containerd.sock",
                           "/run/systemd/private",
                           "/run/dbus/system_bus_socket",
                           "/var/lib/opctl",
                           "/var/lib/opctl/backups",
                           "/run/opctl-agent"}) {
    EXPECT_TRUE(NeverMountedReason(path).has_value()) << path;
  }
  for (const char* path :
       {"/srv/opctl", "/home/app/data", "/var/lib/app", "/opt/etcetera", "/mnt/runner", "/usrdata"}) {
    EXPECT_FALSE(NeverMountedReason(path).has_value()) << path;
  }
  EXPECT_THAT(*NeverMountedReason("/var/run/docker.sock"), HasSubstr("the Docker socket, which is root on the host"));
  EXPECT_THAT(*NeverMountedReason("/var"), HasSubstr("\"/var\" is never mounted: it holds /var/"));
  // Trees only the caller knows: the agent's backups, the controller's data.
  EXPECT_FALSE(NeverMountedReason("/srv/backups/x").has_value());
  EXPECT_THAT(*NeverMountedReason("/srv/backups/x", {{"/srv/backups", "the backups"}}), HasSubstr("is the backups"));
  EXPECT_THAT(*NeverMountedReason("/srv", {{"/srv/backups", "the backups"}}), HasSubstr("it holds /srv/backups"));
}

TEST(HostPath, UnderMeansTheRootOrBelowIt) {
  EXPECT_TRUE(IsUnder("/srv/opctl", "/srv/opctl"));
  EXPECT_TRUE(IsUnder("/srv/opctl/web", "/srv/opctl"));
  EXPECT_FALSE(IsUnder("/srv/opctl-other", "/srv/opctl"));
  EXPECT_FALSE(IsUnder("/srv", "/srv/opctl"));
  EXPECT_TRUE(IsUnder("/anything", "/"));
}

}  // namespace
}  // namespace opctl
