#include "cli/manifest.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <future>
#include <sstream>

#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "common/object.h"
#include "tests/support/process.h"

namespace opctl::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kTwoDocuments[] = R"(apiVersion: opctl.io/v1
kind: Network
metadata:
  name: redis-net
spec:
  subnet: 172.19.0.0/16
---
apiVersion: opctl.io/v1
kind: Service
metadata:
  name: redis-master
  labels:
    app: redis
spec:
  replicas: 1
  network:
    name: redis-net
    addresses: [172.19.0.2]
  template:
    image: opctl/redis:7.0
    resources:
      memoryLimit: 2x
      cpus: 2
    healthcheck:
      test: redis-cli ping
)";

TEST(Manifest, ParsesEveryDocumentIntoItsKind) {
  ParsedManifests parsed = ParseManifests(kTwoDocuments, "stack.yaml");
  ASSERT_THAT(parsed.errors, ::testing::IsEmpty());
  ASSERT_EQ(parsed.documents.size(), 2u);
  EXPECT_EQ(KindOf(parsed.documents[0].object), "Network");
  EXPECT_EQ(parsed.documents[0].object.network().spec().subnet(), "172.19.0.0/16");
  const v1::Service& service = parsed.documents[1].object.service();
  EXPECT_EQ(service.metadata().labels().at("app"), "redis");
  EXPECT_EQ(service.spec().network().addresses(0), "172.19.0.2");
  EXPECT_EQ(service.spec().template_().resources().cpus(), "2");  // a YAML number read as a quantity
  // A test written as one string runs through the shell, as compose does it.
  EXPECT_THAT(service.spec().template_().healthcheck().test(), ElementsAre("CMD-SHELL", "redis-cli ping"));
}

TEST(Manifest, RemembersLinesForErrors) {
  ParsedManifests parsed = ParseManifests(kTwoDocuments, "stack.yaml");
  const ManifestDocument& service = parsed.documents[1];
  EXPECT_EQ(service.line, 8);
  EXPECT_EQ(service.LineOf("spec.template.resources.memoryLimit"), 22);
  EXPECT_EQ(service.LineOf("spec.network.addresses[0]"), 18);
  // A missing field points at its nearest parent.
  EXPECT_EQ(service.LineOf("spec.template.resources.memoryReservation"), 21);
  std::vector<FieldError> errors = ValidateApply({parsed.documents[0].object, service.object}, nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(service.Describe(errors[0]),
            "stack.yaml:22: service/redis-master spec.template.resources.memoryLimit: \"2x\" is not a memory "
            "quantity (e.g. 512m, 2g, 1Gi, 1.5G or bytes)");
}

TEST(Manifest, UnknownFieldsAreErrorsWithTheirLine) {
  ParsedManifests parsed = ParseManifests(R"(apiVersion: opctl.io/v1
kind: Service
metadata:
  name: web
spec:
  replica: 2
  template:
    image: nginx
    memory: 1g
)",
                                          "web.yaml");
  EXPECT_THAT(parsed.errors,
              ElementsAre(HasSubstr("web.yaml:6: service/web spec.replica: unknown field; allowed here: replicas, "),
                          HasSubstr("web.yaml:9: service/web spec.template.memory: unknown field")));
}

TEST(Manifest, WrongTypesAreErrors) {
  ParsedManifests parsed = ParseManifests(R"(apiVersion: opctl.io/v1
kind: Service
metadata:
  name: web
  labels: [a, b]
spec:
  replicas: two
  template:
    image: [nginx]
    command: run
)",
                                          "web.yaml");
  EXPECT_THAT(parsed.errors,
              ElementsAre(HasSubstr("web.yaml:5: service/web metadata.labels: must be a mapping"),
                          HasSubstr("web.yaml:7: service/web spec.replicas: \"two\" is not a whole number"),
                          HasSubstr("web.yaml:9: service/web spec.template.image: must be a single value"),
                          HasSubstr("web.yaml:10: service/web spec.template.command: must be a list")));
}

TEST(Manifest, BadYamlAndBadKinds) {
  EXPECT_THAT(ParseManifests("kind: [unclosed\n", "x.yaml").errors, ElementsAre(HasSubstr("x.yaml:")));
  EXPECT_THAT(ParseManifests("apiVersion: opctl.io/v1\nkind: Deployment\n", "x.yaml").errors,
              ElementsAre(HasSubstr("x.yaml:2: kind: \"Deployment\" is not a kind; one of Network, Volume")));
  EXPECT_THAT(ParseManifests("apiVersion: v1\nkind: Network\nmetadata: {name: a}\n", "x.yaml").errors,
              ElementsAre(HasSubstr("x.yaml:1: network/a apiVersion: \"v1\" is not supported; use opctl.io/v1")));
  EXPECT_THAT(ParseManifests("- a\n- b\n", "x.yaml").errors, ElementsAre(HasSubstr("a document must be a mapping")));
}

// Each file is one apply (redis.yaml and redis-ha.yaml are the same stack, two ways).
TEST(Manifest, TheRepositoryStacksParseAndValidate) {
  for (const char* file : {"redis.yaml", "redis-ha.yaml", "monitoring.yaml"}) {
    ParsedManifests parsed = LoadManifests({opctl::testing::SourcePath(std::string("manifests/") + file)});
    ASSERT_THAT(parsed.errors, ::testing::IsEmpty()) << file;
    std::vector<v1::Object> objects;
    for (const ManifestDocument& document : parsed.documents) objects.push_back(document.object);
    EXPECT_THAT(ValidateApply(objects, nullptr), ::testing::IsEmpty()) << file;
    EXPECT_GE(objects.size(), 3u) << file;
  }
}

// yaml-cpp 0.7 looped forever on this input (a lone carriage return, then broken flow), found by
// fuzzing: it must come back with an error, in time.
TEST(Manifest, ALoneCarriageReturnDoesNotHangTheParser) {
  std::string path = opctl::testing::SourcePath("tests/fuzz/corpus/manifest/lone-cr-hang.yaml");
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_FALSE(text.str().empty());
  auto parsing = std::async(std::launch::async, [&] { return ParseManifests(text.str(), "hang.yaml"); });
  if (parsing.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
    ADD_FAILURE() << "ParseManifests still runs after 10 s";
    std::_Exit(1);  // the parsing thread cannot be stopped
  }
  EXPECT_THAT(parsing.get().errors, ElementsAre(HasSubstr("hang.yaml:4: invalid YAML")));
  // And this, where yaml-cpp's LoadAll yields empty documents at the "," for ever.
  EXPECT_THAT(ParseManifests("[a]\n,\n", "comma.yaml").errors,
              ElementsAre(HasSubstr("comma.yaml:2: invalid YAML: unexpected \",\" where a document should start")));
  EXPECT_THAT(ParseManifests("a: 1\n\x07\n", "bell.yaml").errors,
              ElementsAre(HasSubstr("bell.yaml:2: invalid YAML: control character 0x07")));
}

// The audit's expansion: a network of 1,000 addresses named 1,000 times by alias, so some 30 KB stand
// for a million values. The walk stops at its bound, with the line.
TEST(Manifest, YamlAliasesCannotExpandWithoutBound) {
  std::string addresses;
  for (int i = 0; i < 1000; ++i) addresses += i ? ", 10.0.0.1" : "10.0.0.1";
  std::string aliases;
  for (int i = 0; i < 1000; ++i) aliases += i ? ", *N" : "*N";
  std::string yaml =
      "apiVersion: opctl.io/v1\nkind: Service\nmetadata: {name: web}\nspec:\n  replicas: 1\n"
      "  network: &N {name: n, addresses: [" +
      addresses +
      "]}\n"
      "  additionalNetworks: [" +
      aliases + "]\n";
  absl::Time start = absl::Now();
  ParsedManifests parsed = ParseManifests(yaml, "laughs.yaml");
  EXPECT_LT(absl::Now() - start, absl::Seconds(20)) << "the walk must stop early";
  ASSERT_EQ(parsed.errors.size(), 1u);
  EXPECT_THAT(parsed.errors[0], HasSubstr("laughs.yaml:6: service/web spec.additionalNetworks[198]"));
  EXPECT_THAT(parsed.errors[0], HasSubstr("the document holds more than 200000 values (YAML aliases"));
}

TEST(Manifest, UnreadablePathsAreNamed) {
  EXPECT_THAT(LoadManifests({"/nonexistent/file.yaml"}).errors,
              ElementsAre(HasSubstr("/nonexistent/file.yaml: cannot read")));
}

}  // namespace
}  // namespace opctl::cli
