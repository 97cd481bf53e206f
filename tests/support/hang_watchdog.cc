// Linked into the integration and end-to-end tests: a test that runs far longer than any should is
// stuck, and ctest's timeout would kill it without a word of where. The watchdog says where first
// (every thread of the test: what it waits in, by the kernel's account; every process it started:
// its command line and state), then ends the test, so the run shows the stall and loses no more time.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream stream(path);
  std::stringstream text;
  text << stream.rdbuf();
  std::string all = text.str();
  for (char& c : all)
    if (c == '\0') c = ' ';
  while (!all.empty() && all.back() == '\n') all.pop_back();
  return all;
}

// The parent's pid from /proc/PID/stat ("pid (comm) state ppid ...": comm may hold spaces).
pid_t ParentOf(const std::string& pid) {
  std::string stat = ReadFile("/proc/" + pid + "/stat");
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(stat.substr(close + 1));
  std::string state;
  pid_t parent = 0;
  rest >> state >> parent;
  return parent;
}

bool Descends(pid_t pid, pid_t ancestor) {
  for (int depth = 0; pid > 1 && depth < 64; ++depth) {
    pid = ParentOf(std::to_string(pid));
    if (pid == ancestor) return true;
  }
  return false;
}

void DescribeThreads(const std::string& pid) {
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator("/proc/" + pid + "/task", error)) {
    std::string dir = task.path().string();
    std::string syscall = ReadFile(dir + "/syscall");  // its number first (61 wait4, 202 futex, 232 epoll_wait)
    std::fprintf(stderr, "  thread %s (%s): waits in %s, system call %s\n", task.path().filename().c_str(),
                 ReadFile(dir + "/comm").c_str(), ReadFile(dir + "/wchan").c_str(),
                 syscall.substr(0, syscall.find(' ')).c_str());
  }
}

void DescribeTheStall(const std::string& test, int seconds) {
  std::fprintf(stderr, "\nhang watchdog: %s has run for %d s: stuck. Its threads:\n", test.c_str(), seconds);
  std::string self = std::to_string(getpid());
  DescribeThreads(self);
  std::fprintf(stderr, "hang watchdog: the processes it started:\n");
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", error)) {
    std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos || !Descends(std::stoi(pid), getpid())) continue;
    std::string status = ReadFile("/proc/" + pid + "/status");
    size_t state = status.find("State:");
    std::fprintf(stderr, "  pid %s %s: %s\n", pid.c_str(),
                 state == std::string::npos ? "" : status.substr(state, status.find('\n', state) - state).c_str(),
                 ReadFile("/proc/" + pid + "/cmdline").c_str());
    DescribeThreads(pid);
  }
}

// What the watchdog's thread reads. Never destroyed: the thread outlives gtest, which deletes its
// listeners at exit (a state owned by the listener was read after it was freed).
struct Watched {
  std::mutex mu;
  std::string test;  // "" between tests
  std::chrono::steady_clock::time_point started;
};

Watched& TheWatched() {
  static Watched* watched = new Watched();
  return *watched;
}

[[noreturn]] void Watch(int limit_seconds) {
  Watched& watched = TheWatched();
  for (;;) {
    // A watchdog's period, not a wait for a condition: it looks once a second.
    std::this_thread::sleep_for(std::chrono::seconds(1));
    std::lock_guard<std::mutex> lock(watched.mu);
    if (watched.test.empty()) continue;
    auto ran = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - watched.started);
    if (ran.count() < limit_seconds) continue;
    DescribeTheStall(watched.test, static_cast<int>(ran.count()));
    std::fflush(nullptr);
    _exit(1);
  }
}

class HangWatchdog : public ::testing::EmptyTestEventListener {
 public:
  void OnTestStart(const ::testing::TestInfo& info) override {
    std::lock_guard<std::mutex> lock(TheWatched().mu);
    TheWatched().test = std::string(info.test_suite_name()) + "." + info.name();
    TheWatched().started = std::chrono::steady_clock::now();
  }
  void OnTestEnd(const ::testing::TestInfo&) override {
    std::lock_guard<std::mutex> lock(TheWatched().mu);
    TheWatched().test.clear();
  }
};

// Below ctest's 900 s, above any test's honest run; OPCTL_TEST_STALL_SECONDS sets another.
[[maybe_unused]] const bool registered = [] {
  const char* limit = std::getenv("OPCTL_TEST_STALL_SECONDS");
  int seconds = limit ? std::atoi(limit) : 600;
  if (seconds > 0) {
    ::testing::UnitTest::GetInstance()->listeners().Append(new HangWatchdog());
    std::thread(Watch, seconds).detach();
  }
  return true;
}();

}  // namespace
