#include "cli/arguments.h"

#include <gtest/gtest.h>

namespace opctl::cli {
namespace {

TEST(ArgumentsTest, ForLogsDashFIsFollowAndTakesNoValue) {
  absl::StatusOr<Arguments> logs = Arguments::Parse({"-f", "service/redis", "--tail", "5"}, "logs");
  ASSERT_TRUE(logs.ok()) << logs.status();
  EXPECT_TRUE(logs->Has("follow"));
  EXPECT_FALSE(logs->Has("filename"));
  EXPECT_EQ(logs->positional(), std::vector<std::string>{"service/redis"});
  EXPECT_EQ(logs->Get("tail"), "5");
  // Elsewhere -f is still a file.
  absl::StatusOr<Arguments> apply = Arguments::Parse({"-f", "stack.yaml"}, "apply");
  ASSERT_TRUE(apply.ok());
  EXPECT_EQ(apply->Get("filename"), "stack.yaml");
}

TEST(ArgumentsTest, ABareFlagMeansItsFallback) {
  absl::StatusOr<Arguments> bare = Arguments::Parse({"-f", "stack.yaml", "--dry-run"}, "apply");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_TRUE(bare->Has("dry-run"));
  EXPECT_EQ(bare->Get("dry-run", "server"), "server");
  absl::StatusOr<Arguments> client = Arguments::Parse({"--dry-run=client", "-f", "stack.yaml"}, "apply");
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->Get("dry-run", "server"), "client");
  EXPECT_FALSE(client->Has("prune"));
}

TEST(ArgumentsTest, TheVerbIsTheFirstWordThatIsNoFlagValue) {
  EXPECT_EQ(FindVerb({"-s", "127.0.0.1:7070", "logs", "-f", "x"}), "logs");
  EXPECT_EQ(FindVerb({"--server=127.0.0.1:7070", "get", "all"}), "get");
  EXPECT_EQ(FindVerb({"-owide", "get"}), "get");
  EXPECT_EQ(FindVerb({"--help"}), "");
}

}  // namespace
}  // namespace opctl::cli
