// The tar file TarFileWriter writes is checked with the system's own tar, not with our reading of it.
#include "agent/tar_writer.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/process.h"

namespace opctl::agent {
namespace {

TEST(TarFileWriterTest, TarListsAndExtractsTheOneEntryByteForByte) {
  std::string dir = testing::MakeTempDir("opctl-tar");
  std::string path = dir + "/archive.tar";
  std::string data;
  for (int i = 0; i < 3000; ++i) data += static_cast<char>(i * 7);  // binary, not a multiple of 512
  TarFileWriter tar;
  ASSERT_TRUE(tar.Open(path, "restore.tar.gz").ok());
  ASSERT_TRUE(tar.Append(data.substr(0, 1000)).ok());
  ASSERT_TRUE(tar.Append(data.substr(1000)).ok());
  ASSERT_TRUE(tar.Finish().ok());
  EXPECT_EQ(tar.data_bytes(), 3000);

  testing::CommandResult listing = testing::RunCommand({"tar", "-tvf", path});
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  EXPECT_NE(listing.out.find("3000"), std::string::npos) << listing.out;
  EXPECT_NE(listing.out.find("restore.tar.gz"), std::string::npos) << listing.out;
  testing::CommandResult extracted = testing::RunCommand({"tar", "-xOf", path, "restore.tar.gz"});
  ASSERT_EQ(extracted.exit_code, 0) << extracted.err;
  EXPECT_EQ(extracted.out, data);
  // Header, data padded to 512, two zero blocks.
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  EXPECT_EQ(static_cast<int64_t>(file.tellg()), 512 + 3072 + 1024);
}

TEST(TarFileWriterTest, HeaderChecksumIsWhatTarComputes) {
  std::string header = TarHeader("x", 0, 0);
  ASSERT_EQ(header.size(), 512u);
  unsigned sum = 0;
  for (size_t i = 0; i < header.size(); ++i) sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  EXPECT_EQ(std::stoul(header.substr(148, 6), nullptr, 8), sum);
}

TEST(TarFileWriterTest, AnEmptyOrOverlongNameIsRefused) {
  TarFileWriter tar;
  EXPECT_FALSE(tar.Open("/tmp/unused.tar", "").ok());
  EXPECT_FALSE(tar.Open("/tmp/unused.tar", std::string(100, 'n')).ok());
}

}  // namespace
}  // namespace opctl::agent
