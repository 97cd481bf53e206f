// The local terminal of an interactive exec: raw mode for as long as the session lasts (restored
// however the command ends, as `docker exec -it` does), its size, and a file descriptor that becomes
// readable when the window is resized (SIGWINCH), to poll beside stdin.
#pragma once

#include <termios.h>

#include <optional>

namespace opctl::cli {

struct TerminalSize {
  unsigned rows = 0, columns = 0;
};

// The size of the terminal on `fd`; nullopt when it is none.
std::optional<TerminalSize> SizeOf(int fd);

class RawTerminal {
 public:
  // Puts the terminal on `fd` into raw mode; does nothing when `fd` is no terminal.
  explicit RawTerminal(int fd);
  ~RawTerminal();  // restores the mode it found
  RawTerminal(const RawTerminal&) = delete;
  RawTerminal& operator=(const RawTerminal&) = delete;

  bool raw() const { return saved_.has_value(); }

 private:
  int fd_;
  std::optional<termios> saved_;
};

// Readable after each SIGWINCH; Drain() reads what is pending. One per process.
class ResizeSignal {
 public:
  ResizeSignal();
  ~ResizeSignal();
  int fd() const { return pipe_[0]; }
  void Drain() const;

 private:
  int pipe_[2] = {-1, -1};
};

}  // namespace opctl::cli
