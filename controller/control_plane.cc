#include "controller/control_plane.h"

namespace opctl::controller {
namespace {

ControllersOptions ControllersOptionsOf(const ControlPlaneOptions& options, const ContainerPolicy& policy,
                                        EventRecorder& events) {
  ControllersOptions controllers;
  controllers.events = &events;
  controllers.silent_node_settle = options.silent_node_settle;
  controllers.host_path_roots = policy.host_path_roots;
  return controllers;
}

}  // namespace

ControlPlane::ControlPlane(Store& store, ContainerPolicy policy, ControlPlaneOptions options)
    : options_(options),
      hub_(store, options.bookmark_interval),
      registry_(store, Clock::Real(), policy),
      fenced_(store),
      leader_registry_(options.elected ? static_cast<Store&>(fenced_) : store, Clock::Real(), policy),
      events_(registry_, Clock::Real(), options.events),
      manager_(leader_registry_, hub_, Clock::Real(), Logger::Stderr()),
      controllers_(manager_, leader_registry_, Clock::Real(), ControllersOptionsOf(options, policy, events_)),
      node_monitor_(registry_, Clock::Real(), {.grace = options.node_grace, .events = &events_}, Logger::Stderr(),
                    &leader_registry_),
      compactor_(store, options.history_revisions) {}

ControlPlane::~ControlPlane() { manager_.Stop(); }

absl::Status ControlPlane::Start() {
  node_monitor_.Start();
  manager_.Add(
      events_,
      {.name = "events", .resync = [] { return std::vector<std::string>{kEventFlushKey}; }, .wait_for_watch = false});
  // It reads the store, not an informer's index: it need not wait for the watch before a check.
  manager_.Add(node_monitor_, {.name = "node monitor",
                               .leader_only = true,
                               .resync = [] { return std::vector<std::string>{kNodeCheckKey}; },
                               .wait_for_watch = false});
  if (options_.elected) {
    manager_.Add(compactor_, {.name = "etcd compactor",
                              .leader_only = true,
                              .resync = [] { return std::vector<std::string>{kCompactKey}; },
                              .wait_for_watch = false});
  } else {
    manager_.SetLeading(true);
  }
  return manager_.Start();
}

}  // namespace opctl::controller
