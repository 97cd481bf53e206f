// The log seam: every part of opctl says what happened through a Logger, so tests can read it and a
// process picks where it goes and how it reads. A line has a time, a level, a component and a
// message; the process-wide Stderr logger writes it as text ("2026-12-04T02:22:06.123Z INFO
// agent: ...") or as one JSON object a line (--log-format json), and drops Debug lines above its
// verbosity (--v).
//
// Implementations are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace opctl {

enum class LogLevel { kError, kWarning, kInfo, kDebug };

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Write(LogLevel level, absl::string_view component, absl::string_view message) = 0;
  // Whether a Debug line of `verbosity` (1 and up) would be written: skip building it when not.
  virtual bool Verbose(int verbosity) const { return false; }

  void Log(absl::string_view component, absl::string_view message) { Write(LogLevel::kInfo, component, message); }
  void Warn(absl::string_view component, absl::string_view message) { Write(LogLevel::kWarning, component, message); }
  void Error(absl::string_view component, absl::string_view message) { Write(LogLevel::kError, component, message); }
  void Debug(int verbosity, absl::string_view component, absl::string_view message) {
    if (Verbose(verbosity)) Write(LogLevel::kDebug, component, message);
  }

  // One line on stderr per call, written whole, as Configure last said (text, verbosity 0 at first).
  static Logger& Stderr();
};

enum class LogFormat { kText, kJson };

// "text" or "json"; INVALID_ARGUMENT naming the choices otherwise.
absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text);
// How Logger::Stderr() writes from now on (a process's --log-format and --v).
void ConfigureStderrLogger(LogFormat format, int verbosity);
// The same from the flags' text; INVALID_ARGUMENT ("--log-format: ...") for a format not known.
absl::Status ConfigureStderrLogger(absl::string_view format, int verbosity);
// One line as the Stderr logger writes it (without the newline), at `time_text`.
std::string FormatLogLine(LogFormat format, absl::string_view time_text, LogLevel level, absl::string_view component,
                          absl::string_view message);

// Keeps every line as "<component>: <message>" (tests); Debug lines up to `verbosity` (none by default).
class RecordingLogger : public Logger {
 public:
  explicit RecordingLogger(int verbosity = 0) : verbosity_(verbosity) {}
  void Write(LogLevel, absl::string_view component, absl::string_view message) override {
    absl::MutexLock lock(&mutex_);
    lines_.push_back(absl::StrCat(component, ": ", message));
  }
  bool Verbose(int verbosity) const override { return verbosity <= verbosity_; }
  std::vector<std::string> lines() const {
    absl::MutexLock lock(&mutex_);
    return lines_;
  }

 private:
  const int verbosity_;
  mutable absl::Mutex mutex_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace opctl
