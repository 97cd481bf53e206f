#include "agent/multiplexed_stream.h"

namespace opctl::agent {

bool MultiplexedStreamDecoder::Feed(std::string_view bytes) {
  buffer_.append(bytes);
  constexpr size_t kHeader = 8;
  size_t offset = 0;
  bool keep_going = true;
  while (keep_going && buffer_.size() - offset >= kHeader) {
    const auto* header = reinterpret_cast<const unsigned char*>(buffer_.data() + offset);
    uint32_t length =
        (uint32_t{header[4]} << 24) | (uint32_t{header[5]} << 16) | (uint32_t{header[6]} << 8) | uint32_t{header[7]};
    if (buffer_.size() - offset - kHeader < length) break;
    keep_going = sink_(header[0], std::string_view(buffer_).substr(offset + kHeader, length));
    offset += kHeader + length;
  }
  buffer_.erase(0, offset);
  return keep_going;
}

}  // namespace opctl::agent
