#include "agent/multiplexed_stream.h"

#include <gtest/gtest.h>

#include <vector>

namespace opctl::agent {
namespace {

std::string Frame(int stream, const std::string& payload) {
  std::string header(8, '\0');
  header[0] = static_cast<char>(stream);
  uint32_t size = static_cast<uint32_t>(payload.size());
  for (int i = 0; i < 4; ++i) header[7 - i] = static_cast<char>((size >> (8 * i)) & 0xff);
  return header + payload;
}

TEST(MultiplexedStreamDecoderTest, HandsOutWholeFramesHoweverTheBytesArrive) {
  std::string bytes = Frame(1, "hello\n") + Frame(2, "oops\n") + Frame(1, std::string(70000, 'x'));
  // Every split point, including ones inside a header.
  for (size_t piece : {1u, 3u, 7u, 8u, 9u, 4096u, 100000u}) {
    std::vector<std::pair<int, std::string>> frames;
    MultiplexedStreamDecoder decoder([&](int stream, std::string_view payload) {
      frames.emplace_back(stream, std::string(payload));
      return true;
    });
    for (size_t offset = 0; offset < bytes.size(); offset += piece) {
      ASSERT_TRUE(decoder.Feed(std::string_view(bytes).substr(offset, piece)));
    }
    ASSERT_EQ(frames.size(), 3u) << "piece " << piece;
    EXPECT_EQ(frames[0], std::make_pair(1, std::string("hello\n")));
    EXPECT_EQ(frames[1], std::make_pair(2, std::string("oops\n")));
    EXPECT_EQ(frames[2].second.size(), 70000u);
    EXPECT_EQ(decoder.pending(), 0u);
  }
}

TEST(MultiplexedStreamDecoderTest, StopsWhenTheSinkSaysSo) {
  int seen = 0;
  MultiplexedStreamDecoder decoder([&](int, std::string_view) { return ++seen < 2; });
  EXPECT_FALSE(decoder.Feed(Frame(1, "a") + Frame(1, "b") + Frame(1, "c")));
  EXPECT_EQ(seen, 2);
}

TEST(MultiplexedStreamDecoderTest, AnEmptyFrameIsAFrame) {
  int seen = 0;
  MultiplexedStreamDecoder decoder([&](int, std::string_view payload) {
    EXPECT_TRUE(payload.empty());
    ++seen;
    return true;
  });
  decoder.Feed(Frame(1, ""));
  EXPECT_EQ(seen, 1);
}

}  // namespace
}  // namespace opctl::agent
