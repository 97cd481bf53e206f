#include "bench/docker_changes.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "agent/curl_docker_client.h"

namespace opctl::bench {

struct DockerChanges::Shared {
  absl::Mutex mutex;
  absl::CondVar changed;
  int64_t events ABSL_GUARDED_BY(mutex) = 0;
  std::atomic<bool> cancel = false;
};

DockerChanges::DockerChanges(const std::string& socket, std::map<std::string, std::string> labels)
    : shared_(std::make_shared<Shared>()) {
  std::thread([shared = shared_, socket, labels = std::move(labels)] {
    agent::CurlDockerClient docker(socket);
    auto on_event = [&shared](const agent::DockerEvent&) {
      absl::MutexLock lock(&shared->mutex);
      ++shared->events;
      shared->changed.SignalAll();
      return !shared->cancel;
    };
    // A broken stream is opened again; WaitForChange's limit covers the gap.
    while (!shared->cancel) {
      if (!docker.StreamEvents(labels, on_event, shared->cancel).ok()) absl::SleepFor(absl::Milliseconds(100));
    }
  }).detach();
}

DockerChanges::~DockerChanges() { shared_->cancel = true; }

void DockerChanges::WaitForChange(absl::Duration at_most) {
  absl::Time deadline = absl::Now() + at_most;
  absl::MutexLock lock(&shared_->mutex);
  while (shared_->events == seen_ && !shared_->changed.WaitWithDeadline(&shared_->mutex, deadline)) {
  }
  seen_ = shared_->events;
}

void EndProcess(int code) {
  std::cout.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}

}  // namespace opctl::bench
