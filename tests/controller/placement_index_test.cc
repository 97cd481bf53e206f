#include "controller/placement_index.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace opctl::controller {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

v1::Object ContainerOn(const std::string& name, const std::string& service, const std::string& node,
                       const std::string& reservation = "") {
  v1::Object object;
  v1::Container* container = object.mutable_container();
  container->mutable_metadata()->set_name(name);
  container->mutable_spec()->set_service(service);
  container->mutable_spec()->set_node_name(node);
  container->mutable_spec()->mutable_template_()->mutable_resources()->set_memory_reservation(reservation);
  return object;
}

ObjectChange Created(v1::Object object) {
  ObjectChange change;
  change.created = true;
  change.object = std::move(object);
  return change;
}

ObjectChange Modified(v1::Object before, v1::Object after) {
  ObjectChange change;
  change.object = std::move(after);
  change.previous = std::move(before);
  return change;
}

ObjectChange Deleted(v1::Object last) {
  ObjectChange change;
  change.deleted = true;
  change.object = std::move(last);
  return change;
}

TEST(PlacementIndex, FollowsBindingsMovesAndDeletions) {
  PlacementIndex index;
  index.Reset({ContainerOn("web-0", "web", "a", "1g"), ContainerOn("web-1", "web", "")}, 1);
  EXPECT_THAT(index.Unbound(), ElementsAre("web-1"));
  EXPECT_EQ(index.Loads().at("a").memory_bytes, 1LL << 30);

  index.Observe(Modified(ContainerOn("web-1", "web", ""), ContainerOn("web-1", "web", "a", "512m")));
  EXPECT_THAT(index.Unbound(), IsEmpty());
  EXPECT_THAT(index.BoundTo("a"), ElementsAre("web-0", "web-1"));
  EXPECT_EQ(index.Loads().at("a").per_service.at("web"), 2);
  EXPECT_EQ(index.Loads().at("a").memory_bytes, (1LL << 30) + (512LL << 20));

  // Moved to another node: counted there, no longer on the first.
  index.Observe(Modified(ContainerOn("web-0", "web", "a", "1g"), ContainerOn("web-0", "web", "b", "1g")));
  EXPECT_THAT(index.BoundTo("a"), ElementsAre("web-1"));
  EXPECT_THAT(index.BoundTo("b"), ElementsAre("web-0"));
  EXPECT_EQ(index.Loads().at("a").memory_bytes, 512LL << 20);

  index.Observe(Deleted(ContainerOn("web-1", "web", "a", "512m")));
  index.Observe(Created(ContainerOn("db-0", "db", "")));
  EXPECT_EQ(index.Loads().count("a"), 0u);
  EXPECT_THAT(index.Unbound(), ElementsAre("db-0"));
}

TEST(PlacementIndex, IgnoresOtherKinds) {
  PlacementIndex index;
  v1::Object node;
  node.mutable_node()->mutable_metadata()->set_name("a");
  index.Observe(Created(node));
  EXPECT_THAT(index.Unbound(), IsEmpty());
  EXPECT_TRUE(index.Loads().empty());
}

}  // namespace
}  // namespace opctl::controller
