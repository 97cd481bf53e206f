// The `opctl` subcommands. Each returns the process exit code: 0 on success, 1 when the request
// failed (message on err), 2 for a usage error.
#pragma once

#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "cli/arguments.h"
#include "cli/controller_api.h"
#include "cli/manifest.h"
#include "common/object.h"

namespace opctl::cli {

struct CommandContext {
  const Arguments& arguments;
  ControllerApi& client;
  std::ostream& out;
  std::ostream& err;
};

int RunApply(CommandContext& context);
int RunDiff(CommandContext& context);
int RunGet(CommandContext& context);
int RunDescribe(CommandContext& context);
int RunDelete(CommandContext& context);
int RunScale(CommandContext& context);
int RunWait(CommandContext& context);
int RunRollout(CommandContext& context);
int RunCordon(CommandContext& context, bool unschedulable);
int RunDrain(CommandContext& context);
int RunLogs(CommandContext& context);
// Exits with the command's exit code.
int RunExec(CommandContext& context);
// Runs until interrupted.
int RunPortForward(CommandContext& context);
// Usage of containers, or per node, from Docker's stats through the agents.
int RunTop(CommandContext& context);
int RunVolume(CommandContext& context);
// Compose files to manifests (cli/migrate/compose_import.h); needs no controller.
int RunConvert(CommandContext& context);
// This CLI's version and the controller's and agents' when it answers (exit 1 when it does not).
int RunVersion(CommandContext& context);
// Every verb, for completion and usage.
const std::vector<std::string>& Verbs();
// A bash or zsh completion script: verbs, kinds, flags, and object names asked of the controller.
int RunCompletion(CommandContext& context);
// Manifests, or what the controller holds, as compose, stack or Kubernetes files (cli/migrate/export.h).
int RunExport(CommandContext& context);

// Waits until each Service is ready (every replica running, and healthy where it has a check, at its
// current generation), printing progress as `kubectl rollout status` does. On timeout, exits 1
// naming each Service that is not ready and why.
int WaitForServices(CommandContext& context, const std::vector<std::string>& services, absl::Duration timeout);

// rollout's history and undo (rollout_history.cc), and the Service reads and writes they share.
int RolloutHistory(CommandContext& context, const std::string& service);
int RolloutUndo(CommandContext& context, const std::string& service);
// The Service, or the controller's refusal explained.
absl::StatusOr<v1::Object> GetService(CommandContext& context, const std::string& name);
// Applies a Service read with GetService (its resourceVersion makes a concurrent change a conflict).
absl::Status ApplyService(CommandContext& context, const v1::Object& service);

// An object reference from the words after the verb: "service/redis" or "service redis".
struct ObjectReference {
  const KindInfo* kind = nullptr;
  std::string name;  // empty when only a kind was given
};
absl::StatusOr<ObjectReference> ParseReference(const std::vector<std::string>& words);

// The errors in manifests read with LoadManifests, as "FILE:LINE: object field: message": the
// reader's, then the checks that need no controller; one when there is no object at all.
std::vector<std::string> CheckManifests(const ParsedManifests& parsed);
// Sends the manifests' objects to the controller's Apply (dry_run: check and report only). When the
// controller refuses them field by field, `errors` gets each refusal with its file and line.
grpc::Status SendApply(CommandContext& context, const ParsedManifests& parsed, bool dry_run,
                       v1::ApplyResponse* response, std::vector<std::string>* errors);

// Deletes one object (delete_data: a Volume's data on its hosts too), printing "<kind>/<name> <done>"
// for it and for each object that went with it (a Service's Containers). Returns false after printing
// why it failed.
bool DeleteObject(CommandContext& context, const std::string& kind, const std::string& name, bool delete_data,
                  bool ignore_not_found, const std::string& done = "deleted");
// Prints each error and "opctl: nothing was <outcome> (N error(s))"; returns `code`.
int RefuseManifests(CommandContext& context, const std::vector<std::string>& errors, const std::string& outcome,
                    int code);

// The stacks (metadata.stack) the manifests' objects belong to.
std::set<std::string> StacksOf(const ParsedManifests& parsed);
// apply --prune: deletes the Services, Networks and Volumes of the manifests' stacks that the
// manifests do not name, as compose's --remove-orphans does; what the controller made (a Service's
// Containers and per-replica Volumes) goes only with its Service, and no Volume's data is removed.
// dry_run: only prints what would go. Returns the exit code.
int PruneStacks(CommandContext& context, const ParsedManifests& parsed, bool dry_run);

// Prints "opctl: <message>" on err and returns `code`.
int Fail(CommandContext& context, const std::string& message, int code = 1);
// opctl get controllers: the control plane's controllers, the leader marked.
int RunGetControllers(CommandContext& context);

}  // namespace opctl::cli
