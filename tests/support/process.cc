#include "tests/support/process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
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

// In a forked child: replaces the process with argv[0] found on PATH (exit 127 when it cannot).
[[noreturn]] void Exec(const std::vector<std::string>& argv) {
  std::vector<char*> args;
  for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  execvp(args[0], args.data());
  _exit(127);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Process>> Process::Start(const std::vector<std::string>& argv,
                                                        const std::string& log_path) {
  int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log < 0) return absl::InternalError(absl::StrCat("cannot open ", log_path));
  pid_t pid = fork();
  if (pid < 0) return absl::InternalError("fork failed");
  if (pid == 0) {
    // Dies with the test: a test that crashed must leave no controller holding its port (the next run's
    // would not start) or agent acting on its own.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    dup2(log, STDOUT_FILENO);
    dup2(log, STDERR_FILENO);
    int null = open("/dev/null", O_RDONLY);
    dup2(null, STDIN_FILENO);
    Exec(argv);
  }
  close(log);
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
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return exit_code_;
}

bool Process::Running() {
  if (reaped_) return false;
  int status = 0;
  pid_t result = waitpid(pid_, &status, WNOHANG);
  if (result == 0) return true;
  reaped_ = true;
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
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

CommandResult RunCommand(const std::vector<std::string>& argv, const std::string& input) {
  std::string dir = MakeTempDir("opctl-run");
  std::string in_path = dir + "/in", out_path = dir + "/out", err_path = dir + "/err";
  std::ofstream(in_path) << input;
  pid_t pid = fork();
  if (pid == 0) {
    int in = open(in_path.c_str(), O_RDONLY);
    int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(in, STDIN_FILENO);
    dup2(out, STDOUT_FILENO);
    dup2(err, STDERR_FILENO);
    Exec(argv);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  auto read = [](const std::string& path) {
    std::ifstream stream(path);
    std::stringstream text;
    text << stream.rdbuf();
    return text.str();
  };
  CommandResult result{WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), read(out_path),
                       read(err_path)};
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
