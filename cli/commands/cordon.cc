// opctl cordon|uncordon node/NAME: stop or resume placing new containers on a node; what runs there stays.
// opctl drain node/NAME [--timeout 5m]: cordon, then move what may move off the node one container at a
// time, each once the one before runs (and is healthy, where it has a check) on its new node. Like
// kubectl drain, it runs in the client: the controller only evicts.
#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands/commands.h"
#include "common/api_names.h"
#include "common/object.h"
#include "common/quantity.h"

namespace opctl::cli {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(100);

absl::StatusOr<std::string> NodeNameOf(CommandContext& context, const std::string& verb) {
  const std::vector<std::string>& words = context.arguments.positional();
  if (words.size() != 1) return absl::InvalidArgumentError(absl::StrCat(verb, " takes node/NAME"));
  // A bare name is a node, as kubectl takes it.
  std::string word = words[0].find('/') == std::string::npos ? "node/" + words[0] : words[0];
  absl::StatusOr<ObjectReference> reference = ParseReference({word});
  if (!reference.ok()) return reference.status();
  if (reference->kind->kind != kKindNode) return absl::InvalidArgumentError(absl::StrCat(verb, " takes node/NAME"));
  return reference->name;
}

grpc::Status SetUnschedulable(CommandContext& context, const std::string& node, bool unschedulable) {
  v1::CordonRequest request;
  request.set_name(node);
  request.set_unschedulable(unschedulable);
  v1::Object response;
  return context.client.Cordon(request, &response);
}

// Bound to a node other than `from` and ready there.
bool RunsElsewhere(const v1::Container& container, const std::string& from) {
  return !container.spec().node_name().empty() && container.spec().node_name() != from && ContainerIsReady(container);
}

}  // namespace

int RunCordon(CommandContext& context, bool unschedulable) {
  std::string verb = unschedulable ? "cordon" : "uncordon";
  absl::StatusOr<std::string> node = NodeNameOf(context, verb);
  if (!node.ok()) return Fail(context, std::string(node.status().message()), 2);
  grpc::Status status = SetUnschedulable(context, *node, unschedulable);
  if (!status.ok()) return Fail(context, context.client.Explain(status));
  context.out << "node/" << *node << (unschedulable ? " cordoned" : " uncordoned") << "\n";
  return 0;
}

int RunDrain(CommandContext& context) {
  absl::StatusOr<std::string> node = NodeNameOf(context, "drain");
  if (!node.ok()) return Fail(context, std::string(node.status().message()), 2);
  absl::StatusOr<absl::Duration> timeout = ParseDuration(context.arguments.Get("timeout", "5m"));
  if (!timeout.ok()) return Fail(context, absl::StrCat("--timeout: ", timeout.status().message()), 2);
  if (grpc::Status status = SetUnschedulable(context, *node, true); !status.ok()) {
    return Fail(context, context.client.Explain(status));
  }
  context.out << "node/" << *node << " cordoned" << std::endl;

  v1::ListRequest list;
  list.set_kind(kKindContainer);
  v1::ListResponse containers;
  if (grpc::Status status = context.client.List(list, &containers); !status.ok()) {
    return Fail(context, context.client.Explain(status));
  }
  int moved = 0, stays = 0;
  for (const v1::Object& object : containers.items()) {
    const v1::Container& container = object.container();
    if (container.spec().node_name() != *node) continue;
    const std::string& name = container.metadata().name();
    v1::EvictRequest evict;
    evict.set_name(name);
    v1::Object evicted;
    grpc::Status status = context.client.Evict(evict, &evicted);
    if (status.error_code() == grpc::StatusCode::FAILED_PRECONDITION) {
      context.out << status.error_message() << std::endl;
      ++stays;
      continue;
    }
    if (!status.ok()) return Fail(context, context.client.Explain(status));
    absl::Time start = absl::Now();
    absl::Time deadline = start + *timeout;
    while (true) {
      v1::GetRequest get;
      get.set_kind(kKindContainer);
      get.set_name(name);
      v1::Object current;
      status = context.client.Get(get, &current);
      if (status.error_code() == grpc::StatusCode::NOT_FOUND) break;  // deleted meanwhile: nothing to move
      if (status.ok() && RunsElsewhere(current.container(), *node)) {
        context.out << "container/" << name << " moved to node " << current.container().spec().node_name() << " in "
                    << absl::FormatDuration(absl::Trunc(absl::Now() - start, absl::Milliseconds(10))) << std::endl;
        ++moved;
        break;
      }
      if (absl::Now() >= deadline) {
        return Fail(context, absl::StrCat("timed out after ", absl::FormatDuration(*timeout), " waiting for container/",
                                          name, " to run on another node; node/", *node, " stays cordoned"));
      }
      std::this_thread::sleep_for(absl::ToChronoMilliseconds(kPollInterval));
    }
  }
  context.out << "node/" << *node << " drained: " << moved << " moved, " << stays << " stay with their volumes"
              << std::endl;
  return 0;
}

}  // namespace opctl::cli
