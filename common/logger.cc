#include "common/logger.h"

#include <atomic>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "common/clock.h"
#include "common/quote.h"

namespace opctl {
namespace {

std::atomic<LogFormat> stderr_format{LogFormat::kText};
std::atomic<int> stderr_verbosity{0};

const char* LevelName(LogLevel level, LogFormat format) {
  bool json = format == LogFormat::kJson;
  switch (level) {
    case LogLevel::kError:
      return json ? "error" : "ERROR";
    case LogLevel::kWarning:
      return json ? "warning" : "WARN ";
    case LogLevel::kInfo:
      return json ? "info" : "INFO ";
    default:
      return json ? "debug" : "DEBUG";
  }
}

class StderrLogger : public Logger {
 public:
  void Write(LogLevel level, absl::string_view component, absl::string_view message) override {
    if (level == LogLevel::kDebug && stderr_verbosity.load() < 1) return;
    std::string time = FormatTimestamp(absl::Now());
    std::string line = FormatLogLine(stderr_format.load(), time, level, component, message) + "\n";
    std::fwrite(line.data(), 1, line.size(), stderr);  // one write: lines of threads never interleave
  }
  bool Verbose(int verbosity) const override { return stderr_verbosity.load() >= verbosity; }
};

}  // namespace

Logger& Logger::Stderr() {
  static StderrLogger* logger = new StderrLogger();
  return *logger;
}

absl::StatusOr<LogFormat> ParseLogFormat(absl::string_view text) {
  if (text == "text") return LogFormat::kText;
  if (text == "json") return LogFormat::kJson;
  return absl::InvalidArgumentError(absl::StrCat(Quote(text), ": text or json"));
}

void ConfigureStderrLogger(LogFormat format, int verbosity) {
  stderr_format.store(format);
  stderr_verbosity.store(verbosity);
}

absl::Status ConfigureStderrLogger(absl::string_view format, int verbosity) {
  absl::StatusOr<LogFormat> parsed = ParseLogFormat(format);
  if (!parsed.ok()) return absl::InvalidArgumentError(absl::StrCat("--log-format: ", parsed.status().message()));
  ConfigureStderrLogger(*parsed, verbosity);
  return absl::OkStatus();
}

std::string FormatLogLine(LogFormat format, absl::string_view time_text, LogLevel level, absl::string_view component,
                          absl::string_view message) {
  if (format == LogFormat::kText)
    return absl::StrCat(time_text, " ", LevelName(level, format), " ", component, ": ", message);
  nlohmann::json line = {
      {"time", time_text}, {"level", LevelName(level, format)}, {"component", component}, {"msg", message}};
  // A message is the program's own text, but may quote bytes from elsewhere: never fail on bad UTF-8.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace opctl
