// The log seam: loops say what happened through a Logger, so tests can read it and a process picks
// where it goes. Lines are "<component>: <message>", as opctl's logs have always read.
//
// Implementations are thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace opctl {

class Logger {
 public:
  virtual ~Logger() = default;
  virtual void Log(absl::string_view component, absl::string_view message) = 0;
  // One line on stderr per call, written whole.
  static Logger& Stderr();
};

// Keeps every line (tests).
class RecordingLogger : public Logger {
 public:
  void Log(absl::string_view component, absl::string_view message) override {
    absl::MutexLock lock(&mutex_);
    lines_.push_back(absl::StrCat(component, ": ", message));
  }
  std::vector<std::string> lines() const {
    absl::MutexLock lock(&mutex_);
    return lines_;
  }

 private:
  mutable absl::Mutex mutex_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mutex_);
};

}  // namespace opctl
