// Docker's multiplexed stream (logs and exec output of a container without a TTY): frames of an
// 8-byte header (stream 1 = stdout, 2 = stderr; three zero bytes; big-endian payload length) and the
// payload. Bytes arrive in arbitrary pieces; the decoder hands out whole frames.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

namespace opctl::agent {

class MultiplexedStreamDecoder {
 public:
  // Receives each frame's stream number and payload; returns false to stop.
  using FrameSink = std::function<bool(int stream, std::string_view payload)>;

  explicit MultiplexedStreamDecoder(FrameSink sink) : sink_(std::move(sink)) {}

  // Feeds more bytes; returns false once the sink asked to stop.
  bool Feed(std::string_view bytes);
  // Bytes of an unfinished frame still held.
  size_t pending() const { return buffer_.size(); }

 private:
  FrameSink sink_;
  std::string buffer_;
};

}  // namespace opctl::agent
