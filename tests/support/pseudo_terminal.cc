#include "tests/support/pseudo_terminal.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <utmp.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace opctl::testing {

absl::StatusOr<std::unique_ptr<PseudoTerminal>> PseudoTerminal::Start(const std::vector<std::string>& argv, int rows,
                                                                      int columns) {
  winsize size{};
  size.ws_row = static_cast<unsigned short>(rows);
  size.ws_col = static_cast<unsigned short>(columns);
  // vfork, not forkpty's fork, and nothing allocated in the child: see process.cc.
  std::vector<char*> words;
  for (const std::string& word : argv) words.push_back(const_cast<char*>(word.c_str()));
  words.push_back(nullptr);
  int master = -1, terminal = -1;
  if (openpty(&master, &terminal, nullptr, nullptr, &size) != 0)
    return absl::InternalError(absl::StrCat("openpty: ", strerror(errno)));
  fcntl(master, F_SETFD, FD_CLOEXEC);
  pid_t pid = vfork();
  if (pid == 0) {
    // The terminal becomes the child's controlling terminal and its stdin, stdout and stderr.
    if (login_tty(terminal) == 0) execv(words[0], words.data());
    _exit(127);
  }
  close(terminal);
  if (pid < 0) {
    close(master);
    return absl::InternalError(absl::StrCat("vfork: ", strerror(errno)));
  }
  return std::unique_ptr<PseudoTerminal>(new PseudoTerminal(pid, master, columns));
}

PseudoTerminal::~PseudoTerminal() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  close(master_);
}

void PseudoTerminal::Type(const std::string& keys) {
  for (size_t written = 0; written < keys.size();) {
    ssize_t now = write(master_, keys.data() + written, keys.size() - written);
    if (now < 0 && errno == EINTR) continue;
    if (now <= 0) return;
    written += static_cast<size_t>(now);
  }
}

absl::StatusOr<std::string> PseudoTerminal::ReadUntil(const std::string& text, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  char buffer[4096];
  for (;;) {
    size_t found = shown_.find(text, consumed_);
    if (found != std::string::npos) {
      std::string seen = shown_.substr(consumed_, found + text.size() - consumed_);
      consumed_ = found + text.size();
      return seen;
    }
    absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      return absl::DeadlineExceededError(
          absl::StrCat("the terminal did not show \"", text, "\"; it showed: ", shown_.substr(consumed_)));
    }
    pollfd polled{master_, POLLIN, 0};
    if (poll(&polled, 1, static_cast<int>(std::max<int64_t>(1, absl::ToInt64Milliseconds(left)))) <= 0) continue;
    ssize_t got = read(master_, buffer, sizeof(buffer));
    if (got <= 0) {  // the command ended and closed the terminal
      return absl::DeadlineExceededError(
          absl::StrCat("the terminal closed without showing \"", text, "\"; it showed: ", shown_.substr(consumed_)));
    }
    Shown(buffer, static_cast<size_t>(got));
  }
}

void PseudoTerminal::Shown(const char* data, size_t size) {
  shown_.append(data, size);
  size_t at;
  while ((at = shown_.find("\x1b[6n", scanned_)) != std::string::npos) {
    Type(absl::StrCat("\x1b[1;", columns_, "R"));
    scanned_ = at + 4;
  }
  // A query split between two reads is found whole next time.
  scanned_ = std::max(scanned_, shown_.size() >= 3 ? shown_.size() - 3 : 0);
}

void PseudoTerminal::Resize(int rows, int columns) {
  winsize size{};
  size.ws_row = static_cast<unsigned short>(rows);
  size.ws_col = static_cast<unsigned short>(columns);
  columns_ = columns;
  ioctl(master_, TIOCSWINSZ, &size);  // the kernel signals the terminal's foreground process group
}

absl::StatusOr<int> PseudoTerminal::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  char buffer[4096];
  while (!reaped_) {
    int status = 0;
    pid_t done = waitpid(pid_, &status, WNOHANG);
    if (done == pid_) {
      reaped_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    if (absl::Now() > deadline) return absl::DeadlineExceededError("the command is still running");
    // Keep draining the terminal, so a command writing to it never blocks.
    pollfd polled{master_, POLLIN, 0};
    if (poll(&polled, 1, 20) > 0) {
      ssize_t got = read(master_, buffer, sizeof(buffer));
      if (got > 0) Shown(buffer, static_cast<size_t>(got));
    }
  }
  return absl::FailedPreconditionError("already reaped");
}

}  // namespace opctl::testing
