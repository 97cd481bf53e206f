// opctl scale service/NAME --replicas N
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "common/api_names.h"

namespace opctl::cli {

int RunScale(CommandContext& context) {
  absl::StatusOr<ObjectReference> reference = ParseReference(context.arguments.positional());
  if (!reference.ok()) return Fail(context, std::string(reference.status().message()), 2);
  if (reference->kind->kind != kKindService || reference->name.empty()) {
    return Fail(context, "scale takes service/NAME --replicas N", 2);
  }
  int replicas = 0;
  if (!context.arguments.Has("replicas") || !absl::SimpleAtoi(context.arguments.Get("replicas"), &replicas)) {
    return Fail(context, "scale needs --replicas N (a whole number)", 2);
  }
  v1::ScaleRequest request;
  request.set_name(reference->name);
  request.set_replicas(replicas);
  v1::Object response;
  grpc::Status status = context.client.Scale(request, &response);
  if (!status.ok()) return Fail(context, context.client.Explain(status));
  context.out << DisplayName(response) << " scaled to " << replicas << "\n";
  return 0;
}

}  // namespace opctl::cli
