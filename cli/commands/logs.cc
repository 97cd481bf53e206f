// opctl logs [-f] [--tail N] [--since 10m] [--timestamps] container/NAME | service/NAME | NAME
// The output of a container as `docker logs` gives it, streamed from its node's agent through the
// controller; for a Service, every replica's lines, each prefixed with the replica's name as
// `docker compose logs` does.
#include <iostream>
#include <map>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "common/api_names.h"
#include "common/quantity.h"

namespace opctl::cli {
namespace {

// Splits each replica's bytes into lines and prefixes them with its name (a partial line waits).
class PrefixedLines {
 public:
  explicit PrefixedLines(std::ostream& out) : out_(out) {}
  void Add(const v1::LogChunk& chunk) {
    std::string& pending = pending_[{chunk.container(), chunk.stream()}];
    pending += chunk.data();
    size_t start = 0, newline;
    while ((newline = pending.find('\n', start)) != std::string::npos) {
      out_ << chunk.container() << " | " << pending.substr(start, newline + 1 - start);
      start = newline + 1;
    }
    pending.erase(0, start);
    out_.flush();
  }
  void Flush() {
    for (const auto& [source, rest] : pending_) {
      if (!rest.empty()) out_ << source.first << " | " << rest << "\n";
    }
  }

 private:
  std::ostream& out_;
  std::map<std::pair<std::string, int>, std::string> pending_;
};

}  // namespace

int RunLogs(CommandContext& context) {
  const std::vector<std::string>& words = context.arguments.positional();
  v1::LogsRequest request;
  if (words.size() == 1 && words[0].find('/') == std::string::npos) {
    request.set_kind(kKindContainer);  // a bare name is a container, as kubectl takes a pod
    request.set_name(words[0]);
  } else {
    absl::StatusOr<ObjectReference> reference = ParseReference(words);
    if (!reference.ok()) return Fail(context, std::string(reference.status().message()), 2);
    if ((reference->kind->kind != kKindContainer && reference->kind->kind != kKindService) || reference->name.empty()) {
      return Fail(context, "logs takes container/NAME or service/NAME", 2);
    }
    request.set_kind(reference->kind->kind);
    request.set_name(reference->name);
  }
  request.set_follow(context.arguments.Has("follow"));
  request.set_timestamps(context.arguments.Has("timestamps"));
  if (context.arguments.Has("tail")) {
    int tail = 0;
    if (!absl::SimpleAtoi(context.arguments.Get("tail"), &tail) || tail < 0) {
      return Fail(context, "--tail takes a number of lines", 2);
    }
    request.set_tail(tail);
  }
  if (context.arguments.Has("since")) {
    absl::StatusOr<absl::Duration> since = ParseDuration(context.arguments.Get("since"));
    if (!since.ok() || *since <= absl::ZeroDuration()) return Fail(context, "--since takes a duration, e.g. 10m", 2);
    request.set_since_seconds(std::max<int64_t>(1, absl::ToInt64Seconds(*since)));
  }

  std::unique_ptr<StreamReader<v1::LogChunk>> reader = context.client.Logs(request);
  bool prefixed = request.kind() == kKindService;
  PrefixedLines out_lines(context.out), err_lines(context.err);
  v1::LogChunk chunk;
  while (reader->Read(&chunk)) {
    bool to_err = chunk.stream() == v1::LogChunk::STDERR;
    if (prefixed) {
      (to_err ? err_lines : out_lines).Add(chunk);
    } else {
      (to_err ? context.err : context.out) << chunk.data();
      (to_err ? context.err : context.out).flush();
    }
  }
  out_lines.Flush();
  err_lines.Flush();
  grpc::Status status = reader->Finish();
  if (!status.ok()) return Fail(context, context.client.Explain(status));
  return 0;
}

}  // namespace opctl::cli
