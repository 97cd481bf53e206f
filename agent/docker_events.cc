#include "agent/docker_events.h"

#include <cstdio>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/container_spec.h"
#include "agent/desired_state.h"

namespace opctl::agent {

DockerEventWatcher::DockerEventWatcher(DockerClient& docker, std::string node,
                                       std::function<void(const std::string&)> on_key, std::function<void()> on_resync,
                                       Logger& logger)
    : docker_(docker),
      node_(std::move(node)),
      logger_(logger),
      on_key_(std::move(on_key)),
      on_resync_(std::move(on_resync)) {}

DockerEventWatcher::~DockerEventWatcher() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void DockerEventWatcher::Start() {
  thread_ = std::thread([this] { Run(); });
}

std::string DockerEventWatcher::KeyFor(const DockerEvent& event) {
  // Health checks run as execs every interval: those events say nothing about the container's state.
  if (event.type != "container" || absl::StartsWith(event.action, "exec_")) return "";
  auto name = event.attributes.find(kNameLabel);
  if (name == event.attributes.end()) return "";
  return WorkKey("Container", name->second);
}

void DockerEventWatcher::Run() {
  absl::Duration backoff = absl::Milliseconds(100);
  bool reported = false;
  while (!stopping_) {
    absl::Status ended = docker_.StreamEvents(
        ManagedLabels(node_),
        [this, &backoff, &reported](const DockerEvent& event) {
          backoff = absl::Milliseconds(100);
          reported = false;
          seen_.fetch_add(1, std::memory_order_relaxed);
          if (std::string key = KeyFor(event); !key.empty()) on_key_(key);
          return !stopping_.load();
        },
        stopping_);
    if (stopping_) break;
    if (!reported) {
      logger_.Warn("agent", absl::StrCat("docker events: ", ended.ToString(), "; reconnecting"));
      reported = true;
    }
    // Interruptible wait: check the stop flag every 50 ms.
    for (absl::Time until = absl::Now() + backoff; absl::Now() < until && !stopping_;)
      absl::SleepFor(absl::Milliseconds(50));
    backoff = std::min(backoff * 2, absl::Seconds(5));
    on_resync_();
  }
}

}  // namespace opctl::agent
