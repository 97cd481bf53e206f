// A command run on a pseudo-terminal of its own (forkpty), as a user at a terminal runs it: tests
// type into it, read what it shows, resize its window (the kernel sends it SIGWINCH) and collect
// its exit code. It answers a cursor position query (ESC [6n) as terminals do, with the last column
// of the first row: line editors (redis-cli's linenoise) ask it when they find no window size.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace opctl::testing {

class PseudoTerminal {
 public:
  // Starts `argv` on a new terminal of `rows` x `columns`.
  static absl::StatusOr<std::unique_ptr<PseudoTerminal>> Start(const std::vector<std::string>& argv, int rows,
                                                               int columns);
  ~PseudoTerminal();  // kills the command if it still runs

  void Type(const std::string& keys);
  // Reads until what the terminal showed since the last ReadUntil holds `text`; everything read
  // when it does not show within `timeout`.
  absl::StatusOr<std::string> ReadUntil(const std::string& text, absl::Duration timeout);
  void Resize(int rows, int columns);
  // The command's exit code once it has ended; DEADLINE_EXCEEDED when it runs on.
  absl::StatusOr<int> Wait(absl::Duration timeout);
  // Everything shown so far.
  const std::string& shown() const { return shown_; }

 private:
  PseudoTerminal(pid_t pid, int master, int columns) : pid_(pid), master_(master), columns_(columns) {}
  // Appends what the command wrote, answering the queries in it.
  void Shown(const char* data, size_t size);

  pid_t pid_;
  int master_;
  int columns_;
  bool reaped_ = false;
  std::string shown_;
  size_t consumed_ = 0;
  size_t scanned_ =
      0;  // shown_ up to here was searched for queries  // shown_ up to here was matched by an earlier ReadUntil
};

}  // namespace opctl::testing
