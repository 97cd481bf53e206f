// opctl: the command line of opctl, in kubectl's habits. Parses the verb and flags, then hands over
// to cli/commands.
#include <cstdlib>
#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "cli/arguments.h"
#include "cli/client.h"
#include "cli/commands/commands.h"
#include "cli/connection.h"
#include "common/grpc_runtime.h"

namespace opctl::cli {
namespace {

constexpr char kUsage[] = R"(opctl controls Docker hosts declaratively through opctl-controller.

Usage:
  opctl apply -f FILE|DIR|- [--dry-run[=server|client]] [--prune] [--wait [--timeout 120s]]
                                                           create or update objects (all or nothing);
                                                           --prune: delete what the stacks no longer name
  opctl diff -f FILE|DIR|-                                 what apply would change, as diff -u; exit 0 none, 1 some, 2 error
  opctl get KIND|all [NAME] [-o yaml|json|wide|name] [-l SELECTOR] [--stack S] [-w]
  opctl get controllers [-o json]
  opctl get events [--for KIND/NAME] [--field-selector reason=BackOff] [-w]
                                                           what the controller and agents did and saw
  opctl describe KIND NAME                                 spec, status, conditions, owned objects, events
  opctl delete KIND NAME | -f FILE [--delete-data] [--ignore-not-found]
  opctl scale service/NAME --replicas N
  opctl rollout restart service/NAME                       replace replicas one at a time, each when ready
  opctl rollout status service/NAME [--timeout 120s]       until the rollout is done (every replica ready)
  opctl rollout history service/NAME [--revision N]        the kept templates and what changed each
  opctl rollout undo service/NAME [--to-revision N]        back to the previous template, or to revision N
  opctl cordon|uncordon node/NAME                          stop or resume placing containers on a node
  opctl drain node/NAME [--timeout 5m]                     cordon, then move its containers one at a time
  opctl wait service/NAME... [--timeout 120s]              until each is ready (all replicas running and healthy)
  opctl logs [-f] [--tail N] [--since 10m] [--timestamps] container/NAME|service/NAME
                                                           output of a container, or of every replica of a service
  opctl exec [-i] [-t] container/NAME|service/NAME [--replica I] -- COMMAND [ARGS...]
                                                           run a command in a container; exits with its exit code
  opctl port-forward container/NAME|service/NAME [LOCAL:]REMOTE... [--address 127.0.0.1]
                                                           local ports to a container's ports, none published
  opctl top containers|nodes [-l SELECTOR] [--stack S]     CPU, memory against limit, network and block I/O
  opctl convert -f docker-compose.yml [-f more.yml] [--stack NAME] [-o DIR|-]
                                                           compose files to manifests; warns of each field left out
  opctl export --to compose|swarm|kubernetes [-f FILE|DIR] [--stack NAME] [-o DIR|-]
                                                           manifests (or, without -f, what the controller holds)
                                                           as a compose file, a Swarm stack file or Kubernetes objects
  opctl version [--client] [-o json]                       this CLI's version, the controller's and each agent's
  opctl completion bash|zsh                                source <(opctl completion bash): verbs, kinds, flags, names
  opctl volume backup NAME -o FILE.tar.gz [--node N]       archive a volume's contents (consistent for Redis)
  opctl volume restore NAME -f FILE.tar.gz [--force] [--node N]
                                                           replace a volume's contents with an archive

Kinds: network (net), volume (vol), service (svc), container (ctr), node (no), event (ev); singular or plural.
)";

// The whole usage, or (`verb` given) that verb's lines of it and the flags it takes.
void PrintUsage(const std::string& verb) {
  if (verb.empty()) {
    std::cout << kUsage;
  } else {
    bool in_verb = false;
    for (absl::string_view line : absl::StrSplit(kUsage, '\n')) {
      // A verb's entry: its "  opctl VERB" line and the deeper-indented lines that continue it.
      if (absl::ConsumePrefix(&line, "  opctl ")) {
        std::vector<absl::string_view> verbs = absl::StrSplit(line.substr(0, line.find(' ')), '|');
        in_verb = std::find(verbs.begin(), verbs.end(), verb) != verbs.end();
        if (in_verb) std::cout << "  opctl ";
      } else if (!absl::StartsWith(line, "    ")) {
        in_verb = false;
      }
      if (in_verb) std::cout << line << "\n";
    }
  }
  std::cout << "\nFlags:\n";
  for (const FlagSpec& flag : AllFlags()) {
    if (!verb.empty() && !flag.TakenBy(verb)) continue;
    std::cout << "  " << (flag.short_name ? absl::StrCat("-", std::string(1, flag.short_name), ", ") : "    ") << "--"
              << flag.name << (flag.takes_value ? " VALUE" : "") << "\t" << flag.help << "\n";
  }
}

// These need no controller (nor its address or credentials).
bool NeedsNoController(const std::string& verb, const Arguments& arguments) {
  return verb == "convert" || verb == "completion" || (verb == "export" && arguments.Has("filename")) ||
         (verb == "version" && arguments.Has("client"));
}

int RunWithoutController(const std::string& verb, const Arguments& arguments) {
  ControllerClient offline("127.0.0.1:7070", absl::Seconds(1), grpc::InsecureChannelCredentials());
  CommandContext context{arguments, offline, std::cout, std::cerr};
  if (verb == "convert") return RunConvert(context);
  if (verb == "completion") return RunCompletion(context);
  return verb == "export" ? RunExport(context) : RunVersion(context);
}

int Main(int argc, char** argv) {
  std::vector<std::string> words(argv + 1, argv + argc);
  absl::StatusOr<Arguments> arguments = Arguments::Parse(words, FindVerb(words));
  if (!arguments.ok()) {
    std::cerr << "opctl: " << arguments.status().message() << "\n";
    return 2;
  }
  std::vector<std::string> positional = arguments->positional();
  if (positional.empty() || arguments->Has("help")) {
    PrintUsage(positional.empty() ? "" : positional.front());
    return positional.empty() && !arguments->Has("help") ? 2 : 0;
  }
  std::string verb = positional.front();
  // The verb's own words: rebuild the arguments without it.
  std::vector<std::string> rest(words);
  rest.erase(std::find(rest.begin(), rest.end(), verb));
  absl::StatusOr<Arguments> command_arguments = Arguments::Parse(rest, verb);

  if (NeedsNoController(verb, *command_arguments)) return RunWithoutController(verb, *command_arguments);
  // --dry-run=client needs no controller; everything else connects.
  absl::StatusOr<Connection> connection = ResolveConnection(*command_arguments);
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::InsecureChannelCredentials();
  if (connection.ok()) {
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> resolved = CredentialsOf(*connection);
    if (resolved.ok())
      credentials = *std::move(resolved);
    else
      connection = resolved.status();
  }
  // version says what it can without a controller: its own, and why the server's is missing.
  bool client_side = command_arguments->Optional("dry-run", "server") == "client" || verb == "version";
  if (!connection.ok() && !client_side) {
    std::cerr << "opctl: " << connection.status().message() << "\n";
    return 2;
  }
  ControllerClient client(connection.ok() ? connection->server : "127.0.0.1:7070", absl::Seconds(30), credentials);
  CommandContext context{*command_arguments, client, std::cout, std::cerr};
  if (verb == "apply") return RunApply(context);
  if (verb == "diff") return RunDiff(context);
  if (verb == "get") return RunGet(context);
  if (verb == "describe") return RunDescribe(context);
  if (verb == "delete") return RunDelete(context);
  if (verb == "scale") return RunScale(context);
  if (verb == "wait") return RunWait(context);
  if (verb == "rollout") return RunRollout(context);
  if (verb == "logs") return RunLogs(context);
  if (verb == "exec") return RunExec(context);
  if (verb == "port-forward") return RunPortForward(context);
  if (verb == "top") return RunTop(context);
  if (verb == "volume") return RunVolume(context);
  if (verb == "cordon" || verb == "uncordon") return RunCordon(context, verb == "cordon");
  if (verb == "drain") return RunDrain(context);
  if (verb == "export") return RunExport(context);
  if (verb == "version") return RunVersion(context);
  std::cerr << "opctl: unknown command \"" << verb << "\" (see opctl --help)\n";
  return 2;
}

}  // namespace
}  // namespace opctl::cli

int main(int argc, char** argv) {
  opctl::GrpcRuntime grpc;  // outlives every channel of the command
  return opctl::cli::Main(argc, argv);
}
