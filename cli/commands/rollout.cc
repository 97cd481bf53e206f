// opctl rollout restart|status|history|undo service/NAME: the day-2 verbs of kubectl's rollout for a
// Service, whose template changes roll out a few replicas at a time, each batch once ready again.
//   restart: as kubectl does it, a timestamp in the template changes the spec and the service
//            controller rolls the change (the seed's `docker compose restart`, without the downtime).
//   status [--timeout 120s]: waits until the rollout is done, as wait does.
//   history [--revision N], undo [--to-revision N]: rollout_history.cc.
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands/commands.h"
#include "common/api_names.h"
#include "common/clock.h"
#include "common/quantity.h"

namespace opctl::cli {
namespace {

inline constexpr char kRestartedAtLabel[] = "opctl.io/restarted-at";

int Restart(CommandContext& context, const std::string& name) {
  absl::StatusOr<v1::Object> service = GetService(context, name);
  if (!service.ok()) return Fail(context, std::string(service.status().message()));
  // Docker labels must be label values: the time as seconds.
  (*service->mutable_service()->mutable_spec()->mutable_template_()->mutable_labels())[kRestartedAtLabel] =
      absl::StrCat(absl::ToUnixSeconds(absl::Now()));
  (*service->mutable_service()->mutable_metadata()->mutable_annotations())[kChangeCauseAnnotation] =
      absl::StrCat("opctl rollout restart service/", name);
  if (absl::Status applied = ApplyService(context, *service); !applied.ok()) {
    return Fail(context, std::string(applied.message()));
  }
  context.out << "service/" << name << " restarting (one replica at a time; follow with opctl rollout status service/"
              << name << ")\n";
  return 0;
}

}  // namespace

absl::StatusOr<v1::Object> GetService(CommandContext& context, const std::string& name) {
  v1::GetRequest get;
  get.set_kind(kKindService);
  get.set_name(name);
  v1::Object service;
  grpc::Status status = context.client.Get(get, &service);
  if (!status.ok())
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()), context.client.Explain(status));
  return service;
}

absl::Status ApplyService(CommandContext& context, const v1::Object& service) {
  v1::ApplyRequest apply;
  *apply.add_objects() = service;  // with its resourceVersion: a concurrent change is a conflict, not lost
  v1::ApplyResponse response;
  grpc::Status status = context.client.Apply(apply, &response);
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()), context.client.Explain(status));
}

int RunRollout(CommandContext& context) {
  const std::vector<std::string>& words = context.arguments.positional();
  static const std::set<std::string> kSubcommands = {"restart", "status", "history", "undo"};
  if (words.empty() || !kSubcommands.contains(words[0])) {
    return Fail(context, "usage: opctl rollout restart|status|history|undo service/NAME", 2);
  }
  const std::string& subcommand = words[0];
  absl::StatusOr<ObjectReference> reference = ParseReference({words.begin() + 1, words.end()});
  if (!reference.ok()) return Fail(context, std::string(reference.status().message()), 2);
  if (reference->kind->kind != kKindService || reference->name.empty()) {
    return Fail(context, absl::StrCat("rollout ", subcommand, " takes service/NAME"), 2);
  }
  if (subcommand == "status") {
    absl::StatusOr<absl::Duration> timeout = ParseDuration(context.arguments.Get("timeout", "120s"));
    if (!timeout.ok()) return Fail(context, absl::StrCat("--timeout: ", timeout.status().message()), 2);
    return WaitForServices(context, {reference->name}, *timeout);
  }
  if (subcommand == "history") return RolloutHistory(context, reference->name);
  if (subcommand == "undo") return RolloutUndo(context, reference->name);
  return Restart(context, reference->name);
}

}  // namespace opctl::cli
