#include "common/logger.h"

#include <cstdio>

#include "absl/strings/str_cat.h"

namespace opctl {
namespace {

class StderrLogger : public Logger {
 public:
  void Log(absl::string_view component, absl::string_view message) override {
    std::string line = absl::StrCat(component, ": ", message, "\n");
    std::fwrite(line.data(), 1, line.size(), stderr);  // one write: lines of threads never interleave
  }
};

}  // namespace

Logger& Logger::Stderr() {
  static StderrLogger* logger = new StderrLogger();
  return *logger;
}

}  // namespace opctl
