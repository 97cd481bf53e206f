// CurlDockerClient's exec calls: a command run to its end with its output streamed (Exec), and one
// attached both ways on a connection of its own (AttachExec, docker_exec_session.h).
#include <nlohmann/json.hpp>

#include "absl/strings/strip.h"
#include "agent/curl_docker_client.h"
#include "agent/curl_url.h"
#include "agent/docker_exec_session.h"
#include "agent/docker_json.h"
#include "agent/multiplexed_stream.h"

namespace opctl::agent {

using Json = nlohmann::json;

absl::StatusOr<int> CurlDockerClient::Exec(const std::string& id, const std::vector<std::string>& command,
                                           const std::string& user, const OutputSink& sink,
                                           const CancelCheck& cancelled) {
  Json request = {{"AttachStdout", true}, {"AttachStderr", true}, {"Cmd", command}};
  if (!user.empty()) request["User"] = user;
  absl::StatusOr<Response> created = Call("POST", "/containers/" + UrlEscape(id) + "/exec", request.dump());
  if (!created.ok()) return created.status();
  absl::StatusOr<std::string> exec_id = DecodeId(created->body, "exec create");
  if (!exec_id.ok()) return exec_id.status();
  MultiplexedStreamDecoder decoder(sink);
  Json start = {{"Detach", false}, {"Tty", false}};
  absl::Status streamed = Stream(
      "POST", "/exec/" + UrlEscape(*exec_id) + "/start", start.dump(),
      [&decoder](std::string_view bytes) { return decoder.Feed(bytes); }, cancelled);
  if (!streamed.ok()) return streamed;
  if (cancelled()) return absl::CancelledError("exec cancelled");
  absl::StatusOr<Response> inspected = Call("GET", "/exec/" + UrlEscape(*exec_id) + "/json");
  if (!inspected.ok()) return inspected.status();
  return DecodeExecExitCode(inspected->body);
}

absl::StatusOr<std::unique_ptr<DockerExecSession>> CurlDockerClient::AttachExec(const std::string& id,
                                                                                const DockerExecOptions& options) {
  Json request = {{"AttachStdout", true},
                  {"AttachStderr", !options.tty},
                  {"AttachStdin", options.stdin},
                  {"Tty", options.tty},
                  {"Cmd", options.command}};
  if (!options.user.empty()) request["User"] = options.user;
  absl::StatusOr<Response> created = Call("POST", "/containers/" + UrlEscape(id) + "/exec", request.dump());
  if (!created.ok()) return created.status();
  absl::StatusOr<std::string> exec_id = DecodeId(created->body, "exec create");
  if (!exec_id.ok()) return exec_id.status();
  absl::StatusOr<std::string> prefix = ApiPrefix();
  if (!prefix.ok()) return prefix.status();
  std::string path =
      std::string(absl::StripPrefix(*prefix, "http://localhost")) + "/exec/" + UrlEscape(*exec_id) + "/start";
  DockerCall call = [this](const std::string& method, const std::string& call_path) -> absl::StatusOr<std::string> {
    absl::StatusOr<Response> response = Call(method, call_path);
    if (!response.ok()) return response.status();
    return std::move(response->body);
  };
  absl::StatusOr<std::unique_ptr<HijackedExecSession>> session =
      HijackedExecSession::Start(socket_path_, path, *exec_id, options.tty, std::move(call));
  if (!session.ok()) return session.status();
  return std::unique_ptr<DockerExecSession>(std::move(*session));
}

}  // namespace opctl::agent
