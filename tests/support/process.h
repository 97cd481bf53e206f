// Child processes for integration tests: the real opctl binaries, started, watched and killed.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace opctl::testing {

std::string BinaryPath(const std::string& name);      // <build>/bin/<name>
std::string SourcePath(const std::string& relative);  // <repo>/<relative>
// A fresh directory under $TMPDIR, removed by nobody (tests leave evidence behind on failure).
std::string MakeTempDir(const std::string& prefix);

class Process {
 public:
  // Starts `argv` with stdout and stderr appended to `log_path`.
  static absl::StatusOr<std::unique_ptr<Process>> Start(const std::vector<std::string>& argv,
                                                        const std::string& log_path);
  ~Process();  // SIGKILL and reap if still running

  pid_t pid() const { return pid_; }
  void Signal(int signal);
  // Reaps the process; its exit code, or 128+signal.
  int Wait();
  bool Running();
  std::string Output() const;
  // Waits until the output has a line containing `text`; that line, or NotFound/DeadlineExceeded.
  absl::StatusOr<std::string> WaitForLine(const std::string& text, absl::Duration timeout);

 private:
  Process(pid_t pid, std::string log_path) : pid_(pid), log_path_(std::move(log_path)) {}
  pid_t pid_;
  std::string log_path_;
  bool reaped_ = false;
  int exit_code_ = 0;
};

struct CommandResult {
  int exit_code = 0;
  std::string out;
  std::string err;
};
// Runs a command to completion with `input` on its standard input; one still running after `timeout`
// is killed, and its stderr says so.
CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input = "",
                         absl::Duration timeout = absl::Minutes(10));

// opctl-controller on a free port (of loopback, unless told) with its own data directory.
class ControllerProcess {
 public:
  // Starts it (or restarts it on the same data_dir and, when given, port) and waits until it serves,
  // on `host` (loopback unless given).
  // `wrapper`, when given, runs the controller (its argv follows the wrapper's): e.g. a shell that mounts
  // something first, then execs "$@".
  static absl::StatusOr<std::unique_ptr<ControllerProcess>> Start(const std::string& data_dir, int port = 0,
                                                                  const std::vector<std::string>& extra = {},
                                                                  const std::string& host = "127.0.0.1",
                                                                  const std::vector<std::string>& wrapper = {});
  const std::string& address() const { return address_; }
  int port() const { return port_; }
  Process& process() { return *process_; }
  // Runs the opctl CLI against this controller.
  CommandResult Opctl(const std::vector<std::string>& arguments, const std::string& input = "") const;

 private:
  std::unique_ptr<Process> process_;
  std::string address_;
  int port_ = 0;
};

}  // namespace opctl::testing
