// opctl rollout restart service/NAME: replaces every replica, one at a time, each once the previous
// one is ready again (the seed's `docker compose restart`, without the downtime). As kubectl does it:
// a timestamp in the template changes the spec, and the service controller rolls the change.
// opctl rollout status service/NAME [--timeout 120s]: waits until the rollout is done, as wait does.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands/commands.h"
#include "common/api_names.h"
#include "common/clock.h"
#include "common/quantity.h"

namespace opctl::cli {

inline constexpr char kRestartedAtLabel[] = "opctl.io/restarted-at";

int RunRollout(CommandContext& context) {
  const std::vector<std::string>& words = context.arguments.positional();
  if (words.empty() || (words[0] != "restart" && words[0] != "status"))
    return Fail(context, "usage: opctl rollout restart|status service/NAME", 2);
  absl::StatusOr<ObjectReference> reference = ParseReference({words.begin() + 1, words.end()});
  if (!reference.ok()) return Fail(context, std::string(reference.status().message()), 2);
  if (reference->kind->kind != kKindService || reference->name.empty()) {
    return Fail(context, absl::StrCat("rollout ", words[0], " takes service/NAME"), 2);
  }
  if (words[0] == "status") {
    absl::StatusOr<absl::Duration> timeout = ParseDuration(context.arguments.Get("timeout", "120s"));
    if (!timeout.ok()) return Fail(context, absl::StrCat("--timeout: ", timeout.status().message()), 2);
    return WaitForServices(context, {reference->name}, *timeout);
  }
  v1::GetRequest get;
  get.set_kind(kKindService);
  get.set_name(reference->name);
  v1::Object service;
  grpc::Status status = context.client.Get(get, &service);
  if (!status.ok()) return Fail(context, context.client.Explain(status));
  // Docker labels must be label values: the time as seconds.
  (*service.mutable_service()->mutable_spec()->mutable_template_()->mutable_labels())[kRestartedAtLabel] =
      absl::StrCat(absl::ToUnixSeconds(absl::Now()));
  v1::ApplyRequest apply;
  *apply.add_objects() = service;  // with its resourceVersion: a concurrent change is a conflict, not lost
  v1::ApplyResponse response;
  status = context.client.Apply(apply, &response);
  if (!status.ok()) return Fail(context, context.client.Explain(status));
  context.out << "service/" << reference->name << " restarting (one replica at a time; follow with opctl wait service/"
              << reference->name << ")\n";
  return 0;
}

}  // namespace opctl::cli
