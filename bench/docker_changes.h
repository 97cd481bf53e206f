// Wakes a waiter when Docker reports something happening to a container, so the benchmarks ask the
// Engine API for state only when it may have changed. Polling the container list every 10 ms cost
// dockerd about 80 ms of work per list on two cores: the observer slowed what it measured.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/time/time.h"

namespace opctl::bench {

class DockerChanges {
 public:
  // Follows the events of containers carrying every label of `labels` (all containers when empty).
  DockerChanges(const std::string& socket, std::map<std::string, std::string> labels);
  // The event stream notices the end only about once a second, so its thread is not waited for: it
  // holds what it shares with the waiter, and the process's exit ends it (see EndProcess).
  ~DockerChanges();
  DockerChanges(const DockerChanges&) = delete;
  DockerChanges& operator=(const DockerChanges&) = delete;

  // Returns once an event arrived since the previous call, or after `at_most` (a safety net for an
  // event that came before the stream was open).
  void WaitForChange(absl::Duration at_most);

 private:
  struct Shared;
  std::shared_ptr<Shared> shared_;
  int64_t seen_ = 0;
};

// Prints nothing more and ends the process at once with `code`, with stdout flushed: a thread still
// reading Docker's event stream is not waited for.
[[noreturn]] void EndProcess(int code);

}  // namespace opctl::bench
