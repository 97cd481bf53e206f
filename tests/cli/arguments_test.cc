#include "cli/arguments.h"

#include <gmock/gmock.h>
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

TEST(ArgumentsTest, AFlagWithAnOptionalValueGivenBareMeansItsDefault) {
  absl::StatusOr<Arguments> bare = Arguments::Parse({"-f", "stack.yaml", "--dry-run"}, "apply");
  ASSERT_TRUE(bare.ok()) << bare.status();
  EXPECT_EQ(bare->Optional("dry-run", "server"), "server");
  absl::StatusOr<Arguments> client = Arguments::Parse({"--dry-run=client", "-f", "stack.yaml"}, "apply");
  ASSERT_TRUE(client.ok()) << client.status();
  EXPECT_EQ(client->Optional("dry-run", "server"), "client");
  EXPECT_EQ(client->Optional("prune", "yes"), "");
  // An explicitly empty value stays empty: --ca= means "no CA", not the default one.
  absl::StatusOr<Arguments> no_ca = Arguments::Parse({"--ca=", "get", "networks"}, "get");
  ASSERT_TRUE(no_ca.ok()) << no_ca.status();
  EXPECT_TRUE(no_ca->Has("ca"));
  EXPECT_EQ(no_ca->Get("ca", "/default/ca.crt"), "");
}

TEST(ArgumentsTest, AFlagTheVerbDoesNotTakeIsRefusedByName) {
  absl::StatusOr<Arguments> get = Arguments::Parse({"get", "services", "--replicas", "3"}, "get");
  ASSERT_FALSE(get.ok());
  EXPECT_EQ(get.status().message(),
            "flag --replicas is not a flag of get: its own are --output, --selector, --watch, --for, --field-selector, "
            "--stack (see opctl get --help)");
  absl::StatusOr<Arguments> describe = Arguments::Parse({"describe", "svc", "x", "-o", "yaml"}, "describe");
  ASSERT_FALSE(describe.ok());
  EXPECT_EQ(describe.status().message(),
            "flag --output is not a flag of describe: it takes none but the connection's (see opctl describe --help)");
  // The connection's flags and --help go with every verb.
  EXPECT_TRUE(
      Arguments::Parse({"describe", "svc", "x", "--server=127.0.0.1:7070", "--insecure", "-h"}, "describe").ok());
  EXPECT_TRUE(Arguments::Parse({"scale", "svc/x", "--replicas", "2", "--token", "t"}, "scale").ok());
}

TEST(ArgumentsTest, TheVerbIsTheFirstWordThatIsNoFlagValue) {
  EXPECT_EQ(FindVerb({"-s", "127.0.0.1:7070", "logs", "-f", "x"}), "logs");
  EXPECT_EQ(FindVerb({"--server=127.0.0.1:7070", "get", "all"}), "get");
  EXPECT_EQ(FindVerb({"-owide", "get"}), "get");
  EXPECT_EQ(FindVerb({"--help"}), "");
}

TEST(ArgumentsTest, SwitchesCombineAndEverythingAfterTwoDashesIsTheCommands) {
  absl::StatusOr<Arguments> exec =
      Arguments::Parse({"-it", "service/redis", "--replica", "1", "--", "redis-cli", "-p", "26379", "--", "x"}, "exec");
  ASSERT_TRUE(exec.ok()) << exec.status();
  EXPECT_TRUE(exec->Has("stdin"));
  EXPECT_TRUE(exec->Has("tty"));
  EXPECT_EQ(exec->Get("replica"), "1");
  EXPECT_EQ(exec->positional(), std::vector<std::string>{"service/redis"});
  EXPECT_EQ(exec->command(), (std::vector<std::string>{"redis-cli", "-p", "26379", "--", "x"}));
  EXPECT_EQ(FindVerb({"--", "exec"}), "");
  // Only switches combine, and only those the verb takes.
  absl::StatusOr<Arguments> valued = Arguments::Parse({"-io", "x"}, "exec");
  ASSERT_FALSE(valued.ok());
  EXPECT_EQ(valued.status().message(), "flag -io: -o is not a switch that combines (see opctl --help)");
  absl::StatusOr<Arguments> elsewhere = Arguments::Parse({"-it", "service/redis"}, "logs");
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_THAT(std::string(elsewhere.status().message()), ::testing::HasSubstr("flag --stdin is not a flag of logs"));
}

}  // namespace
}  // namespace opctl::cli
