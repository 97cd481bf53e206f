#include "controller/watch_filter.h"

#include <gtest/gtest.h>

#include "tests/controller/test_objects.h"

namespace opctl::controller {
namespace {

ObjectChange Modified(const v1::Object& before, const v1::Object& after) {
  ObjectChange change;
  change.revision = 7;
  change.object = after;
  change.previous = before;
  return change;
}

v1::Object ContainerOn(const std::string& node, const std::string& role) {
  v1::Object object;
  object.mutable_container()->mutable_metadata()->set_name("c");
  (*object.mutable_container()->mutable_metadata()->mutable_labels())["role"] = role;
  object.mutable_container()->mutable_spec()->set_node_name(node);
  return object;
}

TEST(WatchFilter, ObjectsMovingInAndOutOfTheSelectionAreAddedAndDeleted) {
  v1::WatchRequest request;
  request.set_label_selector("role=master");
  WatchFilter filter = *WatchFilter::Create(request);
  EXPECT_EQ(filter.ToEvent(Modified(ContainerOn("a", "replica"), ContainerOn("a", "master")))->type(),
            v1::WatchEvent::ADDED);
  EXPECT_EQ(filter.ToEvent(Modified(ContainerOn("a", "master"), ContainerOn("a", "master")))->type(),
            v1::WatchEvent::MODIFIED);
  EXPECT_EQ(filter.ToEvent(Modified(ContainerOn("a", "master"), ContainerOn("a", "replica")))->type(),
            v1::WatchEvent::DELETED);
  EXPECT_FALSE(filter.ToEvent(Modified(ContainerOn("a", "replica"), ContainerOn("a", "replica"))).has_value());
}

TEST(WatchFilter, AnAgentSeesOnlyContainersBoundToItsNode) {
  v1::WatchRequest request;
  request.set_node_name("host-a");
  WatchFilter filter = *WatchFilter::Create(request);
  EXPECT_TRUE(filter.Matches(ContainerOn("host-a", "x")));
  EXPECT_FALSE(filter.Matches(ContainerOn("host-b", "x")));
  EXPECT_TRUE(filter.Matches(testing::NetworkObject("net", "10.0.0.0/24")));
  EXPECT_FALSE(filter.Matches(testing::ServiceObject("svc", 1)));
  // Re-bound away from this node: the agent hears a deletion.
  EXPECT_EQ(filter.ToEvent(Modified(ContainerOn("host-a", "x"), ContainerOn("host-b", "x")))->type(),
            v1::WatchEvent::DELETED);
}

TEST(WatchFilter, RejectsUnknownKindsAndBadSelectors) {
  v1::WatchRequest request;
  request.set_kind("pods");
  EXPECT_FALSE(WatchFilter::Create(request).ok());
  request.set_kind("svc");
  request.set_label_selector("a in b");
  EXPECT_FALSE(WatchFilter::Create(request).ok());
}

}  // namespace
}  // namespace opctl::controller
