#include "common/quantity.h"

#include <gtest/gtest.h>

namespace opctl {
namespace {

TEST(ParseMemoryBytes, ComposeSuffixesAreBinary) {
  EXPECT_EQ(*ParseMemoryBytes("2g"), 2LL << 30);
  EXPECT_EQ(*ParseMemoryBytes("512m"), 512LL << 20);
  EXPECT_EQ(*ParseMemoryBytes("64k"), 64LL << 10);
  EXPECT_EQ(*ParseMemoryBytes("1gb"), 1LL << 30);
  EXPECT_EQ(*ParseMemoryBytes("100b"), 100);
}

TEST(ParseMemoryBytes, KubernetesSuffixes) {
  EXPECT_EQ(*ParseMemoryBytes("1Gi"), 1LL << 30);
  EXPECT_EQ(*ParseMemoryBytes("256Mi"), 256LL << 20);
  EXPECT_EQ(*ParseMemoryBytes("1.5G"), 1500000000);
  EXPECT_EQ(*ParseMemoryBytes("500M"), 500000000);
}

TEST(ParseMemoryBytes, PlainBytesAndFractions) {
  EXPECT_EQ(*ParseMemoryBytes("1048576"), 1048576);
  EXPECT_EQ(*ParseMemoryBytes("0.5g"), 512LL << 20);
}

TEST(ParseMemoryBytes, RejectsNonsense) {
  for (const char* bad : {"", "2x", "g", "-1g", "1..5g", ".5g", "2 g b", "1e9", "10Xi"}) {
    absl::StatusOr<int64_t> parsed = ParseMemoryBytes(bad);
    EXPECT_FALSE(parsed.ok()) << bad;
    if (!parsed.ok()) {
      EXPECT_NE(parsed.status().message().find("not a memory quantity"), std::string::npos) << bad;
    }
  }
  EXPECT_FALSE(ParseMemoryBytes("5000T").ok());
}

TEST(ParseMilliCpus, AcceptsComposeAndKubernetesForms) {
  EXPECT_EQ(*ParseMilliCpus("2"), 2000);
  EXPECT_EQ(*ParseMilliCpus("0.5"), 500);
  EXPECT_EQ(*ParseMilliCpus("500m"), 500);
  EXPECT_EQ(*ParseMilliCpus("1.25"), 1250);
}

TEST(ParseMilliCpus, RejectsOutOfRange) {
  for (const char* bad : {"0", "0m", "abc", "2cpu", "-1", "5000"}) EXPECT_FALSE(ParseMilliCpus(bad).ok()) << bad;
}

TEST(ParseDuration, GoStyle) {
  EXPECT_EQ(*ParseDuration("5s"), absl::Seconds(5));
  EXPECT_EQ(*ParseDuration("1m30s"), absl::Seconds(90));
  EXPECT_EQ(*ParseDuration("500ms"), absl::Milliseconds(500));
  EXPECT_EQ(*ParseDuration("1.5h"), absl::Minutes(90));
  EXPECT_EQ(*ParseDuration("250us"), absl::Microseconds(250));
}

TEST(ParseDuration, RejectsBareNumbersAndUnknownUnits) {
  for (const char* bad : {"", "5", "5 s", "5d", "s", "-5s", "1m30"}) EXPECT_FALSE(ParseDuration(bad).ok()) << bad;
}

TEST(FormatMemoryBytes, ShortestExactUnit) {
  EXPECT_EQ(FormatMemoryBytes(2LL << 30), "2Gi");
  EXPECT_EQ(FormatMemoryBytes(512LL << 20), "512Mi");
  EXPECT_EQ(FormatMemoryBytes(1500000000), "1500000000");
}

}  // namespace
}  // namespace opctl
