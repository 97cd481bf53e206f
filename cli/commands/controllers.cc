// opctl get controllers: which controllers serve, which one leads, how many agents each hears.
#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "cli/output.h"

namespace opctl::cli {
namespace {

std::string Seen(const v1::ControllerInfo& controller) {
  if (controller.this_controller()) return "answering";
  return absl::StrCat(
      absl::FormatDuration(absl::Trunc(absl::Milliseconds(controller.last_seen_ms()), absl::Milliseconds(100))),
      " ago");
}

}  // namespace

int RunGetControllers(CommandContext& context) {
  if (context.arguments.positional().size() > 1) return Fail(context, "get controllers takes no name", 2);
  std::string output = context.arguments.Get("output");
  v1::ListControllersResponse response;
  if (grpc::Status status = context.client.ListControllers({}, &response); !status.ok()) {
    return Fail(context, context.client.Explain(status));
  }
  if (output == "json") {
    std::string json;
    google::protobuf::util::JsonPrintOptions options;
    options.add_whitespace = true;
    (void)google::protobuf::util::MessageToJsonString(response, &json, options);
    context.out << json;
    return 0;
  }
  if (!output.empty()) return Fail(context, "get controllers prints a table or -o json", 2);
  std::vector<std::vector<std::string>> rows = {{"ADDRESS", "LEADER", "NODES", "SEEN"}};
  for (const v1::ControllerInfo& controller : response.controllers()) {
    rows.push_back({controller.address(), controller.leader() ? "yes" : "", absl::StrCat(controller.nodes_heard()),
                    Seen(controller)});
  }
  context.out << FormatRows(rows);
  context.out << "store: " << response.store() << "\n";
  return 0;
}

}  // namespace opctl::cli
