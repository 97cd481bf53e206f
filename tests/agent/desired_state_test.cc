#include "agent/desired_state.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace opctl::agent {
namespace {

using ::testing::UnorderedElementsAre;

v1::Object Named(const std::string& name) {
  v1::Object object;
  object.mutable_container()->mutable_metadata()->set_name(name);
  return object;
}

TEST(DesiredState, ReplaceReportsChangedAndVanishedKeys) {
  DesiredState state;
  EXPECT_THAT(state.Replace({Named("a"), Named("b")}, 5), UnorderedElementsAre("container/a", "container/b"));
  v1::Object changed = Named("b");
  changed.mutable_container()->mutable_spec()->set_ordinal(1);
  EXPECT_THAT(state.Replace({changed}, 6), UnorderedElementsAre("container/a", "container/b"));
  EXPECT_THAT(state.Replace({changed}, 7), ::testing::IsEmpty());
  EXPECT_EQ(state.revision(), 7);
}

TEST(DesiredState, WatchEventsAddAndRemove) {
  DesiredState state;
  v1::WatchEvent added;
  added.set_type(v1::WatchEvent::ADDED);
  *added.mutable_object() = Named("a");
  added.set_revision(9);
  EXPECT_EQ(state.Apply(added), "container/a");
  EXPECT_TRUE(state.Find("Container", "a").has_value());
  v1::WatchEvent deleted = added;
  deleted.set_type(v1::WatchEvent::DELETED);
  deleted.set_revision(10);
  state.Apply(deleted);
  EXPECT_FALSE(state.Find("Container", "a").has_value());
  EXPECT_EQ(state.revision(), 10);
}

}  // namespace
}  // namespace opctl::agent
