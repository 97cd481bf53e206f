// The controller runtime's manager (controller-runtime's Manager): it owns one Informer per kind,
// shared by every controller, and the controllers' reconcile loops. Start syncs the informers, then
// starts every controller; leader-only ones run only while SetLeading(true) says this process leads
// (one controller process today: main leads from the start; an elected leader later), and stop at
// once when it no longer does. Each pass starts once the watch has delivered every write so far, so
// what a reconciler reads through an index fed by the informers includes its own last writes.
//
// Set up (Informer, Add) before Start, from one thread; then thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/clock.h"
#include "common/logger.h"
#include "controller/registry.h"
#include "controller/runtime/informer.h"
#include "controller/runtime/reconcile_loop.h"
#include "controller/watch_hub.h"

namespace opctl::controller {

struct ControllerOptions {
  std::string name = "";
  bool leader_only = false;
  // The keys each start begins with; see ReconcileLoopOptions.
  std::function<std::vector<std::string>()> resync = nullptr;
  std::function<std::unique_ptr<RateLimiter>()> rate_limiter = nullptr;
  // Wait, before each pass, until the watch has delivered every write so far (for reconcilers that
  // read an index the informers feed).
  bool wait_for_watch = true;
};

class Manager {
 public:
  Manager(Registry& registry, WatchHub& hub, Clock& clock, Logger& logger)
      : registry_(registry), hub_(hub), clock_(clock), logger_(logger) {}
  ~Manager();  // stops every controller, then the informers

  // The kind's shared informer (made on first use).
  Informer& InformerFor(const std::string& kind);
  // Registers a controller; its loop is where event handlers enqueue keys.
  ReconcileLoop& Add(Reconciler& reconciler, ControllerOptions options);

  // Starts the informers (each lists and subscribes), then the controllers that are not leader-only.
  absl::Status Start();
  // Starts (true) or stops (false) the leader-only controllers.
  void SetLeading(bool leading);
  bool leading() const { return leading_; }
  // Stops every controller; Start may not be called again.
  void Stop();

  // Every controller's loop, in the order added (for metrics).
  std::vector<const ReconcileLoop*> Loops() const;

  Clock& clock() { return clock_; }
  Logger& logger() { return logger_; }

 private:
  struct Entry {
    bool leader_only;
    std::unique_ptr<ReconcileLoop> loop;
  };

  Registry& registry_;
  WatchHub& hub_;
  Clock& clock_;
  Logger& logger_;
  std::map<std::string, std::unique_ptr<Informer>> informers_;
  std::vector<Entry> controllers_;
  bool started_ = false;
  std::atomic<bool> leading_ = false;
};

}  // namespace opctl::controller
