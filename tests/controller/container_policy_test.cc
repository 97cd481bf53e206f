#include "controller/container_policy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tests/controller/test_objects.h"
#include "tests/support/process.h"

namespace opctl::controller {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

// A Service asking for everything a policy can allow.
v1::Object Demanding() {
  v1::Object object = testing::ServiceObject("web", 1);
  v1::ContainerTemplate* t = object.mutable_service()->mutable_spec()->mutable_template_();
  t->mutable_security_context()->set_privileged(true);
  t->mutable_security_context()->mutable_capabilities()->add_add("cap_net_admin");
  t->mutable_security_context()->mutable_capabilities()->add_drop("ALL");
  t->set_host_network(true);
  t->set_host_pid(true);
  v1::VolumeMount* mount = t->add_volume_mounts();
  mount->set_host_path("/srv/opctl/web/../web/");
  mount->set_mount_path("/srv");
  return object;
}

std::string WritePolicy(const std::string& text) {
  std::string path = ::opctl::testing::MakeTempDir("opctl-policy") + "/policy.yaml";
  std::ofstream(path) << text;
  return path;
}

std::vector<std::string> Fields(const std::vector<FieldError>& errors) {
  std::vector<std::string> fields;
  for (const FieldError& error : errors) fields.push_back(error.field);
  return fields;
}

TEST(ContainerPolicy, TheDefaultRefusesEachAskNamingFieldAndPolicy) {
  ContainerPolicy policy;
  std::vector<v1::Object> objects = {testing::NetworkObject("net", "10.1.0.0/24"), Demanding()};
  std::vector<FieldError> errors = policy.Check(objects);
  EXPECT_THAT(Fields(errors),
              ::testing::ElementsAre("spec.template.securityContext.privileged",
                                     "spec.template.securityContext.capabilities.add[0]", "spec.template.hostNetwork",
                                     "spec.template.hostPID", "spec.template.volumeMounts[0].hostPath"));
  for (const FieldError& error : errors) {
    EXPECT_EQ(error.document, 1);
    EXPECT_EQ(error.object, "service/web");
    EXPECT_THAT(error.message, HasSubstr("(the default policy (opctl-controller runs without --policy))"));
  }
  EXPECT_THAT(errors[1].message, HasSubstr("capability \"NET_ADMIN\" is refused"));
  EXPECT_THAT(errors[4].message, HasSubstr("host path \"/srv/opctl/web\" is refused"));
  // A plain Service asks for nothing.
  EXPECT_THAT(policy.Check({testing::ServiceObject("plain", 1)}), IsEmpty());
}

TEST(ContainerPolicy, AFileAllowsWhatItNames) {
  absl::StatusOr<ContainerPolicy> policy = ContainerPolicy::Load(
      WritePolicy("allowPrivileged: true\nallowedCapabilities: [NET_ADMIN]\nallowHostNetwork: true\n"
                  "allowHostPID: true\nhostPathRoots: [/srv/opctl/]\n"));
  ASSERT_TRUE(policy.ok()) << policy.status();
  EXPECT_THAT(policy->Check({Demanding()}), IsEmpty());
  v1::Object outside = Demanding();
  outside.mutable_service()->mutable_spec()->mutable_template_()->mutable_volume_mounts(0)->set_host_path(
      "/srv/opctl-other");
  outside.mutable_service()
      ->mutable_spec()
      ->mutable_template_()
      ->mutable_security_context()
      ->mutable_capabilities()
      ->add_add("SYS_ADMIN");
  std::vector<FieldError> errors = policy->Check({outside});
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_THAT(errors[0].message, HasSubstr("capability \"SYS_ADMIN\" is refused by the controller's policy: "
                                           "allowedCapabilities is NET_ADMIN"));
  EXPECT_THAT(errors[1].message, HasSubstr("host path \"/srv/opctl-other\" is outside the controller policy's "
                                           "hostPathRoots (/srv/opctl) (policy file "));
}

TEST(ContainerPolicy, ABadFileIsRefusedNamingLineAndKey) {
  struct Case {
    std::string text, error;
  };
  for (const Case& bad : std::vector<Case>{
           {"allowPrivileged: true\nallowHostNet: true\n", ":2: unknown key \"allowHostNet\""},
           {"allowPrivileged: maybe\n", ":1: "},
           {"hostPathRoots: [/srv, /var/run]\n", ":1: hostPathRoots: \"/var/run\" is never mounted"},
           {"hostPathRoots: [srv]\n", "hostPathRoots: \"srv\" is not an absolute path"},
           {"allowedCapabilities: NET_ADMIN\n", "allowedCapabilities: a list"},
           {"- allowPrivileged\n", ":1: a policy is a mapping"},
           {"allowPrivileged: [true\n", "invalid YAML"},
       }) {
    std::string path = WritePolicy(bad.text);
    absl::StatusOr<ContainerPolicy> policy = ContainerPolicy::Load(path);
    ASSERT_FALSE(policy.ok()) << bad.text;
    EXPECT_TRUE(absl::IsInvalidArgument(policy.status()));
    EXPECT_THAT(policy.status().message(), HasSubstr(path)) << bad.text;
    EXPECT_THAT(policy.status().message(), HasSubstr(bad.error)) << bad.text;
  }
  EXPECT_FALSE(ContainerPolicy::Load("/nonexistent/policy.yaml").ok());
  EXPECT_TRUE(ContainerPolicy::Load(WritePolicy("")).ok());
}

}  // namespace
}  // namespace opctl::controller
