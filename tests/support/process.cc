#include "tests/support/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "tests/support/tls.h"
#include "tests/support/wait.h"

namespace opctl::testing {

std::string BinaryPath(const std::string& name) { return absl::StrCat(OPCTL_BIN_DIR, "/", name); }
std::string SourcePath(const std::string& relative) { return absl::StrCat(OPCTL_SOURCE_DIR, "/", relative); }

std::string MakeTempDir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string pattern = absl::StrCat(base ? base : "/tmp", "/", prefix, "-XXXXXX");
  std::vector<char> buffer(pattern.begin(), pattern.end());
  buffer.push_back('\0');
  char* made = mkdtemp(buffer.data());
  return made ? std::string(made) : "";
}

namespace {

// Children are started with vfork, not fork: fork runs the pthread_atfork handlers, and gRPC 1.51's
// (registered whether or not fork support is on) waits in the test's fork() for gRPC's own threads,
// which may wait for it (grpc/grpc#31885): a test that forked while a call was in flight hung until
// ctest's timeout. The vfork child shares the test's memory until it execs, so all it needs is made
// here, before, and between vfork and exec the child makes only async-signal-safe system calls (no
// allocation: another thread may hold the allocator's lock).
class ExecPlan {
 public:
  explicit ExecPlan(const std::vector<std::string>& argv) : argv_(argv), path_(Resolve(argv.empty() ? "" : argv[0])) {
    for (std::string& arg : argv_) pointers_.push_back(arg.data());
    pointers_.push_back(nullptr);
  }

  // In the vfork child: replaces the process (exit 127 when it cannot).
  [[noreturn]] void Exec() const {
    if (!path_.empty()) execv(path_.c_str(), pointers_.data());
    _exit(127);
  }

 private:
  // `program` itself when it names a path, else the first executable of that name on PATH ("" if none).
  static std::string Resolve(const std::string& program) {
    if (program.empty() || program.find('/') != std::string::npos) return program;
    const char* path = std::getenv("PATH");
    for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
      std::string candidate = absl::StrCat(dir.empty() ? "." : dir, "/", program);
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    return "";
  }

  std::vector<std::string> argv_;
  std::string path_;
  std::vector<char*> pointers_;
};

// Waits up to `timeout` for the child `pid` to exit; its wait status, or nullopt when it still runs.
std::optional<int> WaitForExit(pid_t pid, absl::Duration timeout) {
  int status = 0;
  int pidfd = static_cast<int>(syscall(SYS_pidfd_open, pid, 0));
  if (pidfd >= 0) {
    pollfd exited{pidfd, POLLIN, 0};
    int64_t millis = absl::ToInt64Milliseconds(timeout);
    int ready;
    while ((ready = poll(&exited, 1, static_cast<int>(std::min<int64_t>(millis, INT_MAX)))) < 0 && errno == EINTR) {
    }
    close(pidfd);
    if (ready == 0) return std::nullopt;
    waitpid(pid, &status, 0);
    return status;
  }
  // A kernel without pidfd_open: poll.
  bool exited = WaitFor([&] { return waitpid(pid, &status, WNOHANG) == pid; }, timeout, absl::Milliseconds(2));
  if (!exited) return std::nullopt;
  return status;
}

int ExitCode(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status); }

}  // namespace

absl::StatusOr<std::unique_ptr<Process>> Process::Start(const std::vector<std::string>& argv,
                                                        const std::string& log_path) {
  ExecPlan plan(argv);
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log < 0) return absl::InternalError(absl::StrCat("cannot open ", log_path));
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t pid = vfork();
  if (pid == 0) {
    // Dies with the test: a test that crashed must leave no controller holding its port (the next run's
    // would not start) or agent acting on its own.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    dup2(null, STDIN_FILENO);
    plan.Exec();
  }
  close(log);
  close(null);
  if (pid < 0) return absl::InternalError("vfork failed");
  return std::unique_ptr<Process>(new Process(pid, log_path));
}

Process::~Process() {
  if (!reaped_) {
    kill(pid_, SIGKILL);
    Wait();
  }
}

void Process::Signal(int signal) {
  if (!reaped_) kill(pid_, signal);
}

int Process::Wait() {
  if (reaped_) return exit_code_;
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped_ = true;
  exit_code_ = ExitCode(status);
  return exit_code_;
}

bool Process::Running() {
  if (reaped_) return false;
  int status = 0;
  pid_t result = waitpid(pid_, &status, WNOHANG);
  if (result == 0) return true;
  reaped_ = true;
  exit_code_ = ExitCode(status);
  return false;
}

std::string Process::Output() const {
  std::ifstream stream(log_path_);
  std::stringstream text;
  text << stream.rdbuf();
  return text.str();
}

absl::StatusOr<std::string> Process::WaitForLine(const std::string& text, absl::Duration timeout) {
  std::string found;
  bool ok = WaitFor(
      [&] {
        std::istringstream lines(Output());
        for (std::string line; std::getline(lines, line);) {
          if (line.find(text) != std::string::npos) {
            found = line;
            return true;
          }
        }
        return !Running();
      },
      timeout);
  if (!found.empty()) return found;
  if (!ok) return absl::DeadlineExceededError(absl::StrCat("no line with \"", text, "\" in time; output:\n", Output()));
  return absl::NotFoundError(absl::StrCat("process exited before printing \"", text, "\"; output:\n", Output()));
}

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input, absl::Duration timeout) {
  ExecPlan plan(argv);
  std::string dir = MakeTempDir("opctl-run");
  std::string in_path = dir + "/in", out_path = dir + "/out", err_path = dir + "/err";
  std::ofstream(in_path) << input;
  int in = open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  pid_t pid = vfork();
  if (pid == 0) {
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    plan.Exec();
  }
  for (int fd : {in, out, err}) close(fd);
  std::optional<int> status = pid > 0 ? WaitForExit(pid, timeout) : std::optional<int>(127 << 8);
  std::string killed;
  if (!status) {
    // A command that hangs fails its test with its name, instead of holding the test until ctest's timeout.
    kill(pid, SIGKILL);
    int reaped = 0;
    waitpid(pid, &reaped, 0);
    status = reaped;
    killed = absl::StrCat("\nopctl-test: ", absl::StrJoin(argv, " "), " still ran after ",
                          absl::FormatDuration(timeout), ": killed\n");
  }
  auto read = [](const std::string& path) {
    std::ifstream stream(path);
    std::stringstream text;
    text << stream.rdbuf();
    return text.str();
  };
  CommandResult result{ExitCode(*status), read(out_path), read(err_path) + killed};
  std::filesystem::remove_all(dir);
  return result;
}

absl::StatusOr<std::unique_ptr<ControllerProcess>> ControllerProcess::Start(const std::string& data_dir, int port,
                                                                            const std::vector<std::string>& extra,
                                                                            const std::string& host,
                                                                            const std::vector<std::string>& wrapper) {
  static std::atomic<int> starts{0};
  std::vector<std::string> argv = {BinaryPath("opctl-controller"), absl::StrCat("--listen=", host, ":", port),
                                   absl::StrCat("--data-dir=", data_dir)};
  // TLS and tokens, as users run it, unless the test asks for plaintext by name.
  const bool insecure = std::find(extra.begin(), extra.end(), "--insecure") != extra.end();
  if (!insecure) {
    std::vector<std::string> tls = ControllerTlsFlags();
    argv.insert(argv.end(), tls.begin(), tls.end());
  }
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.insert(argv.begin(), wrapper.begin(), wrapper.end());
  // Every opctl a test runs (through Opctl or RunCommand) finds the CA and the admin token here.
  setenv("OPCTL_CA", TestTls().ca.c_str(), 1);
  setenv("OPCTL_TOKEN", TestTls().admin_token.c_str(), 1);
  if (insecure)
    setenv("OPCTL_INSECURE", "1", 1);
  else
    unsetenv("OPCTL_INSECURE");
  auto process = Process::Start(argv, absl::StrCat(data_dir, "/controller-", starts++, ".log"));
  if (!process.ok()) return process.status();
  absl::StatusOr<std::string> line = (*process)->WaitForLine("serving on", absl::Seconds(20));
  if (!line.ok()) return line.status();
  auto controller = std::unique_ptr<ControllerProcess>(new ControllerProcess());
  size_t colon = line->find(':', line->find("serving on"));
  size_t end = line->find(' ', colon);
  if (colon == std::string::npos || !absl::SimpleAtoi(line->substr(colon + 1, end - colon - 1), &controller->port_)) {
    return absl::InternalError(absl::StrCat("cannot read the port from: ", *line));
  }
  controller->address_ = absl::StrCat(host, ":", controller->port_);
  controller->process_ = *std::move(process);
  return controller;
}

CommandResult ControllerProcess::Opctl(const std::vector<std::string>& arguments, const std::string& input) const {
  std::vector<std::string> argv = {BinaryPath("opctl"), absl::StrCat("--server=", address_)};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  return RunCommand(argv, input);
}

}  // namespace opctl::testing
