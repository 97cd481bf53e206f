#include "controller/controllers.h"

#include "common/api_names.h"
#include "common/object.h"
#include "controller/scheduler.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::controller {
namespace {

using google::protobuf::util::MessageDifferencer;

std::vector<std::string> NamesOf(const std::vector<v1::Object>& objects) {
  std::vector<std::string> names;
  for (const v1::Object& object : objects) names.push_back(MetaOf(object).name());
  return names;
}

// Readiness, a cordon, labels or capacity decide placement; a heartbeat timestamp does not.
bool PlacementChanged(const v1::Node& node, const v1::Node* before) {
  return before == nullptr || NodeIsReady(node) != NodeIsReady(*before) ||
         !MessageDifferencer::Equals(node.spec(), before->spec()) ||
         !MessageDifferencer::Equals(node.metadata(), before->metadata()) ||
         !MessageDifferencer::Equals(node.status().capacity(), before->status().capacity());
}

}  // namespace

Controllers::Controllers(Manager& manager, Registry& registry, Clock& clock, ControllersOptions options)
    : manager_(manager),
      registry_(registry),
      services_(registry, clock, options.host_path_roots, *options.events),
      scheduling_(registry, placement_, clock, *options.events),
      evacuation_(registry, placement_, clock, options.silent_node_settle, *options.events),
      endpoints_(registry, clock) {
  service_loop_ = &manager.Add(services_, {.name = "service controller", .leader_only = true, .resync = [this] {
                                             return NamesOf(registry_.ListKind(kKindService));
                                           }});
  scheduling_loop_ = &manager.Add(scheduling_, {.name = "scheduler", .leader_only = true, .resync = [] {
                                                  return std::vector<std::string>{kScheduleKey};
                                                }});
  // Nodes lost while no controller led.
  evacuation_loop_ = &manager.Add(evacuation_, {.name = "node evacuation", .leader_only = true, .resync = [this] {
                                                  std::vector<std::string> lost;
                                                  for (const v1::Object& node : registry_.ListKind(kKindNode)) {
                                                    if (!NodeIsReady(node.node())) lost.push_back(MetaOf(node).name());
                                                  }
                                                  return lost;
                                                }});
  endpoints_loop_ = &manager.Add(endpoints_, {.name = "network endpoints", .leader_only = true, .resync = [this] {
                                                return NamesOf(registry_.ListKind(kKindNetwork));
                                              }});
  manager.InformerFor(kKindNetwork).AddHandler([this](const ObjectChange& change) {
    endpoints_loop_->Enqueue(MetaOf(change.object).name());
  });
  manager.InformerFor(kKindService).AddHandler([this](const ObjectChange& change) {
    service_loop_->Enqueue(MetaOf(change.object).name());
  });
  manager.InformerFor(kKindContainer)
      .AddHandler([this](const ObjectChange& change) { OnContainer(change); },
                  [this](const std::vector<v1::Object>& containers, int64_t revision) {
                    placement_.Reset(containers, revision);
                  });
  manager.InformerFor(kKindNode).AddHandler([this](const ObjectChange& change) { OnNode(change); });
}

void Controllers::OnContainer(const ObjectChange& change) {
  placement_.Observe(change);
  const std::string& service = change.object.container().spec().service();
  if (!service.empty()) service_loop_->Enqueue(service);
  const v1::ContainerSpec& spec = change.object.container().spec();
  if (spec.node_name().empty()) scheduling_loop_->Enqueue(kScheduleKey);
  if (spec.evicting()) evacuation_loop_->Enqueue(spec.node_name());
  for (const std::string& network : NetworkEndpointsReconciler::NetworksOf(change.object.container())) {
    endpoints_loop_->Enqueue(network);
  }
  if (change.previous) {
    for (const std::string& network : NetworkEndpointsReconciler::NetworksOf(change.previous->container())) {
      endpoints_loop_->Enqueue(network);
    }
  }
}

void Controllers::OnNode(const ObjectChange& change) {
  const v1::Node& node = change.object.node();
  const v1::Node* before = change.previous ? &change.previous->node() : nullptr;
  if (change.created || PlacementChanged(node, before)) scheduling_loop_->Enqueue(kScheduleKey);
  // Lost, or lost for another reason (its fence guard reported in after it went silent).
  if (!NodeIsReady(node) && (before == nullptr || NodeIsReady(*before) || ReadyReason(node) != ReadyReason(*before))) {
    evacuation_loop_->Enqueue(node.metadata().name());
  }
  if (before == nullptr || node.status().overlay_address() != before->status().overlay_address()) {
    for (const std::string& network : NamesOf(registry_.ListKind(kKindNetwork))) endpoints_loop_->Enqueue(network);
  }
}

}  // namespace opctl::controller
