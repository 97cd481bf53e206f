#include "agent/fence.h"

#include <gtest/gtest.h>

namespace opctl::agent {
namespace {

v1::Container Bound(const std::string& name, int64_t generation, bool with_volume = false) {
  v1::Container container;
  container.mutable_metadata()->set_name(name);
  container.mutable_spec()->set_node_name("a");
  container.mutable_spec()->set_binding_generation(generation);
  if (with_volume) container.mutable_spec()->mutable_template_()->add_volume_mounts()->set_name("data");
  return container;
}

v1::HeartbeatResponse Response(int64_t fence_after_ms, int64_t revision = 0,
                               std::map<std::string, int64_t> generations = {}) {
  v1::HeartbeatResponse response;
  response.set_fence_after_milliseconds(fence_after_ms);
  if (revision > 0) {
    response.mutable_bindings()->set_revision(revision);
    for (const auto& [name, generation] : generations) {
      (*response.mutable_bindings()->mutable_binding_generations())[name] = generation;
    }
  }
  return response;
}

const absl::Time kStart = absl::FromUnixSeconds(1000);

TEST(Fence, OffUntilTheControllerArmsIt) {
  Fence fence;
  EXPECT_FALSE(fence.Lapsed(kStart + absl::Hours(1)));
  fence.Renew(kStart, Response(0));  // a lone node
  EXPECT_FALSE(fence.Lapsed(kStart + absl::Hours(1)));
}

TEST(Fence, ALapsedLeaseStopsOnlyWhatWouldMove) {
  Fence fence;
  fence.Renew(kStart, Response(1750));
  EXPECT_TRUE(fence.MayRun(Bound("web-0", 1), 0, kStart + absl::Milliseconds(1700)));
  std::string reason;
  EXPECT_FALSE(fence.MayRun(Bound("web-0", 1), 0, kStart + absl::Milliseconds(1750), &reason));
  EXPECT_NE(reason.find("no heartbeat"), std::string::npos);
  // A container with a volume stays bound to this node, so it keeps running.
  EXPECT_TRUE(fence.MayRun(Bound("db-0", 1, true), 0, kStart + absl::Seconds(10)));
  fence.Renew(kStart + absl::Seconds(10), Response(1750));
  EXPECT_TRUE(fence.MayRun(Bound("web-0", 1), 0, kStart + absl::Seconds(11)));
}

// Holding: the lease lapsed, but most nodes lost the controller too, so the containers keep running
// until the hold ends (or a heartbeat renews the lease). What a peer is told is the lease alone.
TEST(Fence, AHoldKeepsRunningWhatALapsedLeaseWouldStop) {
  Fence fence(absl::Seconds(1));
  fence.Renew(kStart, Response(1750));
  EXPECT_TRUE(fence.ControllerReachable(kStart + absl::Milliseconds(900)));
  EXPECT_FALSE(fence.ControllerReachable(kStart + absl::Milliseconds(1100))) << "three heartbeats missed";
  fence.Hold(kStart + absl::Seconds(3));
  EXPECT_TRUE(fence.MayRun(Bound("web-0", 1), 0, kStart + absl::Milliseconds(2500)));
  EXPECT_FALSE(fence.ControllerReachable(kStart + absl::Milliseconds(2500))) << "holds do not count as reaching it";
  EXPECT_FALSE(fence.MayRun(Bound("web-0", 1), 0, kStart + absl::Seconds(3)));
  fence.Hold(absl::InfinitePast());  // most are back, and this node still cannot reach it: fence
  EXPECT_FALSE(fence.MayRun(Bound("web-0", 1), 0, kStart + absl::Milliseconds(2000)));
  fence.Renew(kStart + absl::Seconds(4), Response(1750));
  EXPECT_TRUE(fence.MayRun(Bound("web-0", 1), 0, kStart + absl::Seconds(5)));
  EXPECT_TRUE(fence.ControllerReachable(kStart + absl::Milliseconds(4500)));
}

TEST(Fence, BindingsNewerThanTheDesiredStateDecide) {
  Fence fence;
  fence.Renew(kStart, Response(0, 50, {{"web-0", 3}, {"web-2", 1}}));
  EXPECT_EQ(fence.bindings_revision(), 50);
  std::string reason;
  // Moved away while the watch was behind: not in the bindings any more.
  EXPECT_FALSE(fence.MayRun(Bound("web-1", 1), 40, kStart, &reason));
  EXPECT_NE(reason.find("no longer bound here"), std::string::npos);
  // Bound here again since: the copy from the older binding must not run.
  EXPECT_FALSE(fence.MayRun(Bound("web-0", 1), 40, kStart, &reason));
  EXPECT_TRUE(fence.MayRun(Bound("web-0", 3), 40, kStart));
  // Once the watch has caught up, the desired state is the newer view.
  EXPECT_TRUE(fence.MayRun(Bound("web-1", 1), 50, kStart));
  // Older bindings never replace newer ones.
  fence.Renew(kStart, Response(0, 45, {}));
  EXPECT_EQ(fence.bindings_revision(), 50);
}

}  // namespace
}  // namespace opctl::agent
