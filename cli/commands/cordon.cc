// opctl cordon|uncordon node/NAME: stop or resume placing new containers on a node; what runs there stays.
#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"

namespace opctl::cli {

int RunCordon(CommandContext& context, bool unschedulable) {
  const std::vector<std::string>& words = context.arguments.positional();
  std::string verb = unschedulable ? "cordon" : "uncordon";
  if (words.size() != 1) return Fail(context, absl::StrCat(verb, " takes node/NAME"), 2);
  // A bare name is a node, as kubectl takes it.
  std::string word = words[0].find('/') == std::string::npos ? "node/" + words[0] : words[0];
  absl::StatusOr<ObjectReference> reference = ParseReference({word});
  if (!reference.ok()) return Fail(context, std::string(reference.status().message()), 2);
  if (reference->kind->kind != "Node") return Fail(context, absl::StrCat(verb, " takes node/NAME"), 2);
  v1::CordonRequest request;
  request.set_name(reference->name);
  request.set_unschedulable(unschedulable);
  v1::Object response;
  grpc::Status status = context.client.Call(&v1::Controller::Stub::Cordon, request, &response);
  if (!status.ok()) return Fail(context, context.client.Explain(status));
  context.out << "node/" << reference->name << (unschedulable ? " cordoned" : " uncordoned") << "\n";
  return 0;
}

}  // namespace opctl::cli
