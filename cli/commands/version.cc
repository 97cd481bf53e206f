// opctl version [--client] [-o json]: this CLI's version and, when the controller answers, its own
// and every agent's (with the node's Docker), as `kubectl version` shows client and server.
#include "common/version.h"

#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "cli/output.h"

namespace opctl::cli {

int RunVersion(CommandContext& context) {
  std::string output = context.arguments.Get("output");
  if (!output.empty() && output != "json") return Fail(context, "version prints text or -o json", 2);
  nlohmann::ordered_json answer = {{"client", OpctlVersion()}};
  std::string text = absl::StrCat("Client: opctl ", OpctlVersion(), "\n");
  int code = 0;
  v1::ListControllersResponse controllers;
  v1::ListRequest nodes_request;
  nodes_request.set_kind("Node");
  v1::ListResponse nodes;
  if (context.arguments.Has("client")) {
    // only this binary's
  } else if (grpc::Status status = context.client.ListControllers({}, &controllers); !status.ok()) {
    text += absl::StrCat("Server: not reachable: ", context.client.Explain(status), "\n");
    answer["serverError"] = context.client.Explain(status);
    code = 1;
  } else {
    text += absl::StrCat("Server: opctl-controller ", controllers.version(), " (store: ", controllers.store(), ")\n");
    answer["server"] = controllers.version();
    if (grpc::Status listed = context.client.List(nodes_request, &nodes); listed.ok()) {
      answer["agents"] = nlohmann::ordered_json::object();
      for (const v1::Object& object : nodes.items()) {
        const v1::NodeStatus& status = object.node().status();
        std::string agent = status.agent_version().empty() ? "unknown (older than 0.9.0)" : status.agent_version();
        text += absl::StrCat("Agent ", object.node().metadata().name(), ": opctl-agent ", agent, ", Docker ",
                             status.docker_version(), "\n");
        answer["agents"][object.node().metadata().name()] = {{"agent", agent}, {"docker", status.docker_version()}};
      }
    }
  }
  context.out << (output == "json" ? answer.dump(2) + "\n" : text);
  return code;
}

}  // namespace opctl::cli
