#include "common/message_bounds.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "opctl/v1/resources.pb.h"

namespace opctl {
namespace {

using ::testing::HasSubstr;

TEST(MessageBounds, EveryStringListAndMapIsBoundedAndNamedByItsPath) {
  v1::Service service;
  service.mutable_metadata()->set_name("web");
  service.mutable_spec()->mutable_template_()->add_env()->set_value(std::string(200, 'v'));
  (*service.mutable_metadata()->mutable_labels())[std::string(300, 'k')] = "v";
  for (int i = 0; i < 11; ++i) service.mutable_spec()->mutable_template_()->add_args("a");
  MessageBounds bounds;
  bounds.max_string_bytes = 100;
  bounds.max_entries = 10;
  std::vector<BoundViolation> found = CheckBounds(service, "", bounds);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].field, "metadata.labels");
  EXPECT_THAT(found[0].message, HasSubstr("(300 bytes) that is too long"));
  EXPECT_EQ(found[1].field, "spec.template.args");
  EXPECT_THAT(found[1].message, HasSubstr("has more than 10 entries"));
  EXPECT_EQ(found[2].field, "spec.template.env[0].value");
  EXPECT_LT(found[2].message.size(), 200u) << "the value is quoted short";
  bounds.max_violations = 1;
  EXPECT_EQ(CheckBounds(service, "", bounds).size(), 1u);
}

TEST(MessageBounds, UnknownFieldsAreDroppedAtEveryLevel) {
  v1::Object object;
  v1::VolumeSpec* spec = object.mutable_volume()->mutable_spec();
  spec->GetReflection()->MutableUnknownFields(spec)->AddVarint(99, 1);
  object.GetReflection()->MutableUnknownFields(&object)->AddFixed32(98, 1);
  (*object.mutable_volume()->mutable_metadata()->mutable_labels())["a"] = "b";
  DropUnknownFields(&object);
  EXPECT_TRUE(object.GetReflection()->GetUnknownFields(object).empty());
  EXPECT_TRUE(spec->GetReflection()->GetUnknownFields(*spec).empty());
  EXPECT_EQ(object.volume().metadata().labels().at("a"), "b");
}

}  // namespace
}  // namespace opctl
