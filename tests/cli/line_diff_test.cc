#include "cli/line_diff.h"

#include <gtest/gtest.h>

#include "absl/strings/str_cat.h"

namespace opctl::cli {
namespace {

// "1\n2\n...\nn\n"
std::string Numbers(int n) {
  std::string text;
  for (int i = 1; i <= n; ++i) absl::StrAppend(&text, i, "\n");
  return text;
}

TEST(UnifiedDiffTest, EqualTextsGiveNothing) {
  EXPECT_EQ(UnifiedDiff(Numbers(5), Numbers(5), "a", "b"), "");
  EXPECT_EQ(UnifiedDiff("", "", "a", "b"), "");
}

TEST(UnifiedDiffTest, OneChangedLineComesWithThreeLinesOfContext) {
  std::string after = Numbers(10);
  after.replace(after.find("5\n"), 2, "five\n");
  EXPECT_EQ(UnifiedDiff(Numbers(10), after, "live/x", "applied/x"),
            "--- live/x\n+++ applied/x\n@@ -2,7 +2,7 @@\n 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(UnifiedDiffTest, ANewTextIsAllAdded) {
  EXPECT_EQ(UnifiedDiff("", "a\nb\n", "old", "new"), "--- old\n+++ new\n@@ -0,0 +1,2 @@\n+a\n+b\n");
  EXPECT_EQ(UnifiedDiff("a\n", "", "old", "new"), "--- old\n+++ new\n@@ -1 +0,0 @@\n-a\n");
}

TEST(UnifiedDiffTest, ChangesFarApartMakeTwoHunksAndCloseOnesOne) {
  std::string far = Numbers(20);
  far.replace(far.find("\n2\n") + 1, 2, "two\n");
  far.replace(far.find("\n19\n") + 1, 3, "nineteen\n");
  EXPECT_EQ(UnifiedDiff(Numbers(20), far, "a", "b"),
            "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+two\n 3\n 4\n 5\n"
            "@@ -16,5 +16,5 @@\n 16\n 17\n 18\n-19\n+nineteen\n 20\n");
  // Six unchanged lines between two changes: the contexts meet, one hunk.
  std::string close = Numbers(20);
  close.replace(close.find("\n3\n") + 1, 2, "three\n");
  close.replace(close.find("\n10\n") + 1, 3, "ten\n");
  EXPECT_EQ(UnifiedDiff(Numbers(20), close, "a", "b"),
            "--- a\n+++ b\n@@ -1,13 +1,13 @@\n 1\n 2\n-3\n+three\n 4\n 5\n 6\n 7\n 8\n 9\n-10\n+ten\n 11\n 12\n 13\n");
}

TEST(UnifiedDiffTest, InsertedAndRemovedLinesKeepTheirPlaces) {
  EXPECT_EQ(UnifiedDiff("a\nb\nc\n", "a\nx\nb\n", "1", "2"), "--- 1\n+++ 2\n@@ -1,3 +1,3 @@\n a\n+x\n b\n-c\n");
  // Without a final newline the last line is still a line.
  EXPECT_EQ(UnifiedDiff("a\nb", "a\nb\n", "1", "2"), "");
}

}  // namespace
}  // namespace opctl::cli
