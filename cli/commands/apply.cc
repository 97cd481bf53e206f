// opctl apply -f FILE|DIR|- [--dry-run[=client|server]] [--prune] [--wait [--timeout D]]
#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "common/api_names.h"
#include "common/quantity.h"

namespace opctl::cli {

int RunApply(CommandContext& context) {
  std::vector<std::string> paths = context.arguments.GetAll("filename");
  if (paths.empty()) return Fail(context, "apply needs -f FILE, -f DIRECTORY or -f - (standard input)", 2);
  ParsedManifests parsed = LoadManifests(paths);
  if (std::vector<std::string> errors = CheckManifests(parsed); !errors.empty()) {
    return RefuseManifests(context, errors, "applied", 1);
  }
  // --prune works on whole stacks: the ones the manifests' objects belong to.
  bool prune = context.arguments.Has("prune");
  if (prune && StacksOf(parsed).empty()) {
    return Fail(context, "--prune removes what a stack no longer names: give the objects a metadata.stack", 2);
  }

  std::string dry_run = context.arguments.Optional("dry-run", "server");
  if (!dry_run.empty() && dry_run != "server" && dry_run != "client") {
    return Fail(context, absl::StrCat("--dry-run=", dry_run, ": give server (the default) or client"), 2);
  }
  if (dry_run == "client") {
    if (prune) return Fail(context, "--prune needs the controller: use --dry-run=server", 2);
    for (const ManifestDocument& document : parsed.documents) {
      context.out << DisplayName(document.object) << " valid (dry run)\n";
    }
    return 0;
  }
  v1::ApplyResponse response;
  std::vector<std::string> errors;
  grpc::Status status = SendApply(context, parsed, !dry_run.empty(), &response, &errors);
  if (!errors.empty()) return RefuseManifests(context, errors, "applied", 1);
  if (!status.ok()) return Fail(context, context.client.Explain(status));
  std::vector<std::string> services;
  for (const v1::ApplyResult& result : response.results()) {
    context.out << DisplayName(result.kind(), result.name()) << " " << result.action()
                << (dry_run.empty() ? "" : " (server dry run)") << "\n";
    if (result.kind() == kKindService) services.push_back(result.name());
  }
  if (prune) {
    if (int code = PruneStacks(context, parsed, !dry_run.empty()); code != 0) return code;
  }
  if (!context.arguments.Has("wait") || !dry_run.empty()) return 0;
  absl::StatusOr<absl::Duration> timeout = ParseDuration(context.arguments.Get("timeout", "120s"));
  if (!timeout.ok()) return Fail(context, absl::StrCat("--timeout: ", timeout.status().message()), 2);
  context.out.flush();
  return WaitForServices(context, services, *timeout);
}

}  // namespace opctl::cli
