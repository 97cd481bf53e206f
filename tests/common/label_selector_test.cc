#include "common/label_selector.h"

#include <gtest/gtest.h>

namespace opctl {
namespace {

const std::map<std::string, std::string> kRedisMaster = {{"app", "redis"}, {"role", "master"}};

bool Selects(const std::string& selector, const std::map<std::string, std::string>& labels) {
  absl::StatusOr<LabelSelector> parsed = LabelSelector::Parse(selector);
  EXPECT_TRUE(parsed.ok()) << selector << ": " << parsed.status();
  return parsed.ok() && parsed->Matches(labels);
}

TEST(LabelSelector, EmptySelectsEverything) { EXPECT_TRUE(Selects("", {})); }

TEST(LabelSelector, EqualityAndInequality) {
  EXPECT_TRUE(Selects("app=redis", kRedisMaster));
  EXPECT_TRUE(Selects("app==redis", kRedisMaster));
  EXPECT_FALSE(Selects("app=nginx", kRedisMaster));
  EXPECT_TRUE(Selects("role!=replica", kRedisMaster));
  EXPECT_FALSE(Selects("role!=master", kRedisMaster));
  EXPECT_TRUE(Selects("tier!=cache", kRedisMaster));  // absent key: != holds, as in Kubernetes
}

TEST(LabelSelector, SetsAndExistence) {
  EXPECT_TRUE(Selects("role in (master,replica)", kRedisMaster));
  EXPECT_FALSE(Selects("role in (sentinel)", kRedisMaster));
  EXPECT_TRUE(Selects("role notin (sentinel, replica)", kRedisMaster));
  EXPECT_TRUE(Selects("app", kRedisMaster));
  EXPECT_FALSE(Selects("!app", kRedisMaster));
  EXPECT_TRUE(Selects("!tier", kRedisMaster));
}

TEST(LabelSelector, AllRequirementsMustHold) {
  EXPECT_TRUE(Selects("app=redis,role!=replica,env notin (prod)", kRedisMaster));
  EXPECT_FALSE(Selects("app=redis,role=replica", kRedisMaster));
}

TEST(LabelSelector, ErrorsSayWhere) {
  for (const char* bad : {"app=redis,", "role in master", "role in (a,b", "=x", "a b", "!"}) {
    absl::StatusOr<LabelSelector> parsed = LabelSelector::Parse(bad);
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_NE(parsed.status().message().find("at character"), std::string::npos) << parsed.status();
  }
}

}  // namespace
}  // namespace opctl
