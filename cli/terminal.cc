#include "cli/terminal.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <unistd.h>

namespace opctl::cli {
namespace {

int resize_pipe = -1;  // the write end, for the signal handler

void OnResize(int) {
  if (resize_pipe < 0) return;
  char byte = 0;
  [[maybe_unused]] ssize_t ignored = write(resize_pipe, &byte, 1);
}

}  // namespace

std::optional<TerminalSize> SizeOf(int fd) {
  winsize size{};
  if (ioctl(fd, TIOCGWINSZ, &size) != 0 || size.ws_row == 0) return std::nullopt;
  return TerminalSize{size.ws_row, size.ws_col};
}

RawTerminal::RawTerminal(int fd) : fd_(fd) {
  termios mode{};
  if (!isatty(fd) || tcgetattr(fd, &mode) != 0) return;
  saved_ = mode;
  cfmakeraw(&mode);
  tcsetattr(fd, TCSANOW, &mode);
}

RawTerminal::~RawTerminal() {
  if (saved_) tcsetattr(fd_, TCSANOW, &*saved_);
}

ResizeSignal::ResizeSignal() {
  if (pipe2(pipe_, O_CLOEXEC | O_NONBLOCK) != 0) return;
  resize_pipe = pipe_[1];
  struct sigaction action {};
  action.sa_handler = OnResize;
  action.sa_flags = SA_RESTART;
  sigemptyset(&action.sa_mask);
  sigaction(SIGWINCH, &action, nullptr);
}

ResizeSignal::~ResizeSignal() {
  signal(SIGWINCH, SIG_DFL);
  resize_pipe = -1;
  for (int fd : pipe_) {
    if (fd >= 0) close(fd);
  }
}

void ResizeSignal::Drain() const {
  char buffer[64];
  while (read(pipe_[0], buffer, sizeof(buffer)) > 0) {
  }
}

}  // namespace opctl::cli
