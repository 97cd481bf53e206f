#include "controller/node_monitor.h"

#include <cstdio>
#include <future>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api_names.h"
#include "common/conditions.h"
#include "common/object.h"
#include "common/validation.h"
#include "controller/scheduler.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::controller {
namespace {

using google::protobuf::util::MessageDifferencer;

}  // namespace

// Nodes whose background write is in flight. Shared with the store's callbacks, which may run after
// the monitor is gone.
struct NodeMonitor::Writes {
  absl::Mutex mutex;
  std::set<std::string> nodes ABSL_GUARDED_BY(mutex);
};

NodeMonitor::NodeMonitor(Registry& registry, Clock& clock, NodeMonitorOptions options, Logger& logger,
                         Registry* leader_writes)
    : registry_(registry),
      leader_writes_(leader_writes ? *leader_writes : registry),
      clock_(clock),
      options_(options),
      logger_(logger),
      writes_(std::make_shared<Writes>()) {}

void NodeMonitor::Start() {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mutex_);
  for (const v1::Object& node : registry_.ListKind(kKindNode)) last_heartbeat_[node.node().metadata().name()] = now;
}

absl::StatusOr<ReconcileResult> NodeMonitor::Reconcile(const std::string&) {
  CheckNodes();
  return ReconcileResult{options_.grace / 25};
}

absl::Status NodeMonitor::Write(Registry& registry, v1::Object object) {
  std::promise<absl::Status> promise;
  registry.Put(std::move(object), [&](absl::StatusOr<v1::Object> result) { promise.set_value(result.status()); });
  return promise.get_future().get();
}

void NodeMonitor::WriteInBackground(v1::Object object) {
  std::string name = object.node().metadata().name();
  {
    absl::MutexLock lock(&writes_->mutex);
    if (!writes_->nodes.insert(name).second) return;
  }
  // The logger outlives the monitor (it is the process's); `this` may not.
  registry_.Put(std::move(object), [writes = writes_, name, &logger = logger_](absl::StatusOr<v1::Object> result) {
    // Another writer (a cordon, the checker) got in first: the next heartbeat writes again. A full or
    // failing disk is worth a line; the node stays Ready on what its heartbeats say in memory.
    if (!result.ok() && !absl::IsAborted(result.status())) {
      logger.Warn("node monitor", absl::StrCat("cannot write node/", name, ": ", result.status().ToString()));
    }
    absl::MutexLock lock(&writes->mutex);
    writes->nodes.erase(name);
  });
}

absl::Status NodeMonitor::Heartbeat(const v1::Node& reported) {
  std::vector<FieldError> errors = ValidateNodeReport(reported);
  if (!errors.empty()) return absl::InvalidArgumentError(absl::StrCat("heartbeat: ", errors.front().ToString()));
  const std::string& name = reported.metadata().name();
  absl::Time now = clock_.Now();
  {
    absl::MutexLock lock(&mutex_);
    last_heartbeat_[name] = now;
    heard_directly_[name] = now;
  }
  std::optional<v1::Object> stored = registry_.Find(kKindNode, name);
  v1::Object object;
  v1::Node* node = object.mutable_node();
  if (stored) *node = stored->node();
  v1::Node before = *node;
  node->mutable_metadata()->set_name(name);
  *node->mutable_metadata()->mutable_labels() = reported.metadata().labels();
  *node->mutable_status()->mutable_capacity() = reported.status().capacity();
  node->mutable_status()->set_docker_version(reported.status().docker_version());
  node->mutable_status()->set_api_version(reported.status().api_version());
  node->mutable_status()->set_agent_address(reported.status().agent_address());
  node->mutable_status()->set_overlay_address(reported.status().overlay_address());
  node->mutable_status()->set_agent_version(reported.status().agent_version());
  *node->mutable_status()->mutable_volumes() = reported.status().volumes();
  SetCondition(node->mutable_status()->mutable_conditions(), kConditionReady, true, kReasonAgentHeartbeating,
               "the agent is sending heartbeats", now);
  if (!stored || !NodeIsReady(before)) {
    options_.events->Record(
        {.kind = kKindNode,
         .name = name,
         .reason = stored ? "NodeReady" : "Registered",
         .message = stored ? "the agent is sending heartbeats again"
                           : absl::StrCat("registered by its agent ", reported.status().agent_version(), ", Docker ",
                                          reported.status().docker_version())});
  }
  bool changed = !stored || !MessageDifferencer::Equals(before, *node);
  bool stale = now - ParseTimestamp(before.status().last_heartbeat()) >= options_.heartbeat_write_interval;
  if (!changed && !stale) return absl::OkStatus();
  node->mutable_status()->set_last_heartbeat(FormatTimestamp(now));
  // The lease the answer renews never waits on the disk.
  WriteInBackground(std::move(object));
  return absl::OkStatus();
}

std::vector<std::string> NodeMonitor::HeardDirectlySince(absl::Time since) {
  absl::MutexLock lock(&mutex_);
  std::vector<std::string> nodes;
  for (const auto& [name, heard] : heard_directly_) {
    if (heard >= since) nodes.push_back(name);
  }
  return nodes;
}

void NodeMonitor::Relayed(const std::vector<std::string>& nodes) {
  absl::Time now = clock_.Now();
  absl::MutexLock lock(&mutex_);
  for (const std::string& name : nodes) last_heartbeat_[name] = std::max(last_heartbeat_[name], now);
}

int NodeMonitor::KnownNodes() {
  absl::MutexLock lock(&mutex_);
  return static_cast<int>(last_heartbeat_.size());
}

void NodeMonitor::CheckNodes() {
  absl::MutexLock check(&check_mutex_);
  absl::Time now = clock_.Now();
  absl::Time previous = std::exchange(last_check_, now);
  if (previous != absl::InfinitePast() && now - previous > options_.grace / 2) {
    // This checker did not run for a long while: the controller was stopped or starved, and what looks
    // like silence is its own deafness. Everyone starts a fresh grace.
    absl::MutexLock lock(&mutex_);
    for (auto& [name, heard] : last_heartbeat_) heard = std::max(heard, now);
    logger_.Warn("node monitor",
                 absl::StrCat("no check for ", absl::FormatDuration(absl::Trunc(now - previous, absl::Milliseconds(1))),
                              " (the controller was paused); every node gets a fresh grace"));
    return;
  }
  size_t registered = 0, out_of_contact = 0;
  std::vector<std::pair<v1::Object, absl::Time>> silent = SilentNodes(now, &registered, &out_of_contact);
  if (IsDisruption(out_of_contact, registered)) {
    if (!disrupted_ && !silent.empty()) {
      logger_.Log("node monitor",
                  absl::StrCat(out_of_contact, " of ", registered,
                               " nodes are out of contact at once: taking it for the control plane's own trouble (a "
                               "zone disruption), not theirs; marking and moving nothing until most are back"));
    }
    disrupted_ = true;
    return;
  }
  if (disrupted_) {
    disrupted_ = false;
    absl::MutexLock lock(&mutex_);
    for (const auto& [object, last] : silent) last_heartbeat_[object.node().metadata().name()] = now;
    if (!silent.empty()) {
      logger_.Log("node monitor",
                  absl::StrCat("most nodes are back; the ", silent.size(), " still silent get a fresh grace"));
    }
    return;
  }
  for (const auto& [object, last] : silent) {
    std::string message =
        absl::StrCat("no heartbeat for ", absl::FormatDuration(absl::Trunc(now - last, absl::Milliseconds(1))),
                     " (grace ", absl::FormatDuration(options_.grace), ")");
    if (last == absl::InfinitePast()) message = "no heartbeat since the controller started";
    absl::Status written = MarkNotReady(leader_writes_, object, kNodeSilentReason, message, now);
    if (!written.ok() && !absl::IsAborted(written)) {
      logger_.Warn("node monitor", absl::StrCat(object.node().metadata().name(), ": ", written.ToString()));
    }
  }
}

std::vector<std::pair<v1::Object, absl::Time>> NodeMonitor::SilentNodes(absl::Time now, size_t* registered,
                                                                        size_t* out_of_contact) {
  std::map<std::string, absl::Time> heartbeats;
  {
    absl::MutexLock lock(&mutex_);
    heartbeats = last_heartbeat_;
  }
  std::vector<v1::Object> nodes = registry_.ListKind(kKindNode);
  *registered = nodes.size();
  std::vector<std::pair<v1::Object, absl::Time>> silent;
  for (const v1::Object& object : nodes) {
    auto heard = heartbeats.find(object.node().metadata().name());
    absl::Time last = heard == heartbeats.end() ? absl::InfinitePast() : heard->second;
    if (!NodeIsReady(object.node())) {
      ++*out_of_contact;
    } else if (now - last > options_.grace) {
      ++*out_of_contact;
      silent.emplace_back(object, last);
    }
  }
  return silent;
}

absl::Status NodeMonitor::AgentGone(const std::string& name, const std::vector<std::string>& removed) {
  if (name.empty()) return absl::InvalidArgumentError("agent gone: node_name is required");
  if (removed.size() > kMaxStatusEntries) {
    return absl::InvalidArgumentError(absl::StrCat("agent gone: at most ", kMaxStatusEntries, " removed names"));
  }
  for (const std::string& container : removed) {
    // Each goes into the Node's condition message: Container names are short.
    if (container.size() > 253) return absl::InvalidArgumentError("agent gone: a removed name is too long");
  }
  absl::Time now = clock_.Now();
  // Retried on a conflict (a heartbeat timestamp or the checker wrote first): the report comes once.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::optional<v1::Object> node = registry_.Find(kKindNode, name);
    if (!node) return absl::NotFoundError(absl::StrCat("node/", name, " is not registered"));
    std::string message = absl::StrCat("the agent stopped; its fence guard removed ", removed.size(),
                                       " movable container", removed.size() == 1 ? "" : "s");
    if (!removed.empty()) absl::StrAppend(&message, " (", absl::StrJoin(removed, ", "), ")");
    absl::Status written = MarkNotReady(registry_, *std::move(node), kAgentGoneReason, message, now);
    if (!absl::IsAborted(written)) return written;
  }
  return absl::AbortedError(absl::StrCat("node/", name, " kept changing; not marked"));
}

absl::Status NodeMonitor::MarkNotReady(Registry& registry, v1::Object node, const std::string& reason,
                                       const std::string& message, absl::Time now) {
  SetCondition(node.mutable_node()->mutable_status()->mutable_conditions(), kConditionReady, false, reason, message,
               now);
  std::string name = node.node().metadata().name();
  absl::Status written = Write(registry, std::move(node));
  if (written.ok()) {
    options_.events->Record({.kind = kKindNode,
                             .name = name,
                             .type = kEventWarning,
                             .reason = reason == kAgentGoneReason ? "Fenced" : "NodeNotReady",
                             .message = message});
  }
  return written;
}

}  // namespace opctl::controller
