#include "controller/runtime/manager.h"

namespace opctl::controller {

Manager::~Manager() { Stop(); }

Informer& Manager::InformerFor(const std::string& kind) {
  std::unique_ptr<Informer>& informer = informers_[kind];
  if (!informer) informer = std::make_unique<Informer>(registry_, hub_, kind);
  return *informer;
}

std::vector<const ReconcileLoop*> Manager::Loops() const {
  std::vector<const ReconcileLoop*> loops;
  for (const Entry& entry : controllers_) loops.push_back(entry.loop.get());
  return loops;
}

ReconcileLoop& Manager::Add(Reconciler& reconciler, ControllerOptions options) {
  ReconcileLoopOptions loop;
  loop.name = std::move(options.name);
  loop.resync = std::move(options.resync);
  loop.rate_limiter = std::move(options.rate_limiter);
  if (options.wait_for_watch) loop.before_pass = [this] { hub_.WaitDispatched(registry_.store().Revision()); };
  controllers_.push_back({options.leader_only, std::make_unique<ReconcileLoop>(reconciler, clock_, logger_, loop)});
  return *controllers_.back().loop;
}

absl::Status Manager::Start() {
  for (auto& [kind, informer] : informers_) {
    if (absl::Status started = informer->Start(); !started.ok()) return started;
  }
  started_ = true;
  for (Entry& entry : controllers_) {
    if (!entry.leader_only || leading_) entry.loop->Start();
  }
  return absl::OkStatus();
}

void Manager::SetLeading(bool leading) {
  leading_ = leading;
  if (!started_) return;  // Start starts them
  for (Entry& entry : controllers_) {
    if (!entry.leader_only) continue;
    if (leading)
      entry.loop->Start();
    else
      entry.loop->Stop();
  }
}

void Manager::Stop() {
  for (Entry& entry : controllers_) entry.loop->Stop();
  informers_.clear();  // unsubscribes: no handler runs after this
}

}  // namespace opctl::controller
