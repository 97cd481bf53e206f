// Follows Docker's event stream for this node's managed containers and turns each event into a work
// key, so a kill, removal, death, OOM or health change is reconciled within milliseconds. When the
// stream breaks (dockerd restarting) it reconnects with backoff and asks for a full resync, since
// events may have been missed meanwhile.
//
// Thread-safe; one background thread.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

#include "agent/docker_client.h"
#include "common/logger.h"

namespace opctl::agent {

class DockerEventWatcher {
 public:
  DockerEventWatcher(DockerClient& docker, std::string node, std::function<void(const std::string& key)> on_key,
                     std::function<void()> on_resync, Logger& logger = Logger::Stderr());
  ~DockerEventWatcher();  // stops

  void Start();

  // The work key a Docker event asks for ("container/NAME"), or "" for events that change nothing
  // (health-check execs and the like).
  static std::string KeyFor(const DockerEvent& event);
  // Docker events of this node's containers seen so far (for metrics).
  uint64_t seen() const { return seen_.load(std::memory_order_relaxed); }

 private:
  void Run();

  DockerClient& docker_;
  const std::string node_;
  Logger& logger_;
  std::atomic<uint64_t> seen_{0};
  std::function<void(const std::string&)> on_key_;
  std::function<void()> on_resync_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace opctl::agent
