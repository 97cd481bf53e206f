// opctl exec [-i] [-t] container/NAME|service/NAME [--replica I] -- COMMAND [ARGS...]
// Runs a command in a running container through the controller and the agent of its node, as
// `kubectl exec` does: with -i stdin goes to the command, with -t it gets a terminal (the local one
// in raw mode, its resizes passed on). opctl exits with the command's exit code.
#include <poll.h>
#include <unistd.h>

#include <thread>

#include "absl/strings/numbers.h"
#include "cli/commands/commands.h"
#include "cli/terminal.h"
#include "common/api_names.h"

namespace opctl::cli {
namespace {

using ExecStream = BidiStream<v1::ExecRequest, v1::ExecResponse>;

// Sends stdin (with -i) and resizes (with -t) until stdin ends or Stop(), then half-closes.
class ExecInput {
 public:
  ExecInput(ExecStream& stream, bool stdin, bool tty) : stream_(stream), stdin_(stdin), tty_(tty) {
    if (pipe(stop_) != 0) stop_[0] = stop_[1] = -1;
    thread_ = std::thread([this] { Run(); });
  }
  ~ExecInput() {
    Stop();
    thread_.join();
    close(stop_[0]);
    close(stop_[1]);
  }
  void Stop() {
    char byte = 0;
    [[maybe_unused]] ssize_t ignored = write(stop_[1], &byte, 1);
  }

 private:
  void Run() {
    std::vector<pollfd> watched = {{stop_[0], POLLIN, 0},
                                   {resize_.fd(), static_cast<short>(tty_ ? POLLIN : 0), 0},
                                   {STDIN_FILENO, static_cast<short>(stdin_ ? POLLIN : 0), 0}};
    char buffer[32 << 10];
    bool open = true;
    while (open && poll(watched.data(), watched.size(), -1) >= 0) {
      if (watched[0].revents != 0) break;
      if (watched[1].revents != 0) {
        resize_.Drain();
        if (std::optional<TerminalSize> size = SizeOf(STDIN_FILENO)) {
          v1::ExecRequest resize;
          resize.mutable_resize()->set_rows(size->rows);
          resize.mutable_resize()->set_columns(size->columns);
          open = stream_.Write(resize);
        }
      }
      if (watched[2].revents != 0) {
        ssize_t got = read(STDIN_FILENO, buffer, sizeof(buffer));
        v1::ExecRequest input;
        input.set_stdin(buffer, got > 0 ? static_cast<size_t>(got) : 0);
        open = got > 0 && stream_.Write(input);  // end of stdin: the command's stdin ends too
      }
    }
    stream_.WritesDone();
  }

  ExecStream& stream_;
  const bool stdin_, tty_;
  ResizeSignal resize_;
  int stop_[2];
  std::thread thread_;
};

absl::StatusOr<v1::ExecRequest> StartRequest(CommandContext& context, bool tty) {
  const std::vector<std::string>& words = context.arguments.positional();
  v1::ExecRequest request;
  v1::ExecRequest::Start& start = *request.mutable_start();
  if (words.size() == 1 && words[0].find('/') == std::string::npos) {
    start.set_kind(kKindContainer);  // a bare name is a container, as kubectl takes a pod
    start.set_name(words[0]);
  } else {
    absl::StatusOr<ObjectReference> reference = ParseReference(words);
    if (!reference.ok()) return reference.status();
    if ((reference->kind->kind != kKindContainer && reference->kind->kind != kKindService) || reference->name.empty()) {
      return absl::InvalidArgumentError("exec takes container/NAME or service/NAME");
    }
    start.set_kind(reference->kind->kind);
    start.set_name(reference->name);
  }
  const std::vector<std::string>& command = context.arguments.command();
  if (command.empty()) return absl::InvalidArgumentError("exec needs a command after --: opctl exec NAME -- COMMAND");
  start.mutable_command()->Assign(command.begin(), command.end());
  if (context.arguments.Has("replica")) {
    int replica = -1;
    if (start.kind() != kKindService) return absl::InvalidArgumentError("--replica picks a replica of service/NAME");
    if (!absl::SimpleAtoi(context.arguments.Get("replica"), &replica) || replica < 0) {
      return absl::InvalidArgumentError("--replica takes an ordinal: 0, 1, ...");
    }
    start.set_replica(replica);
  }
  start.set_stdin(context.arguments.Has("stdin"));
  start.set_tty(tty);
  if (std::optional<TerminalSize> size = tty ? SizeOf(STDIN_FILENO) : std::nullopt) {
    start.mutable_size()->set_rows(size->rows);
    start.mutable_size()->set_columns(size->columns);
  }
  return request;
}

}  // namespace

int RunExec(CommandContext& context) {
  bool tty = context.arguments.Has("tty");
  if (tty && !isatty(STDIN_FILENO)) {
    context.err << "opctl: unable to use a TTY: stdin is not a terminal; going on without one\n";
    tty = false;
  }
  absl::StatusOr<v1::ExecRequest> start = StartRequest(context, tty);
  if (!start.ok()) return Fail(context, std::string(start.status().message()), 2);
  std::unique_ptr<ExecStream> stream = context.client.Exec();
  std::optional<int> exit_code;
  {
    RawTerminal terminal(tty ? STDIN_FILENO : -1);
    bool started = stream->Write(*start);
    std::optional<ExecInput> input;
    if (started && (start->start().stdin() || tty)) {
      input.emplace(*stream, start->start().stdin(), tty);
    } else {
      stream->WritesDone();
    }
    v1::ExecResponse message;
    while (stream->Read(&message)) {
      if (message.has_output()) {
        std::ostream& to = message.output().stream() == v1::LogChunk::STDERR ? context.err : context.out;
        to << message.output().data();
        to.flush();
      } else if (message.has_exit_code()) {
        exit_code = message.exit_code();
        if (input) input->Stop();  // the caller's half-close ends the call
      }
    }
  }
  grpc::Status status = stream->Finish();
  if (exit_code) return *exit_code;
  return Fail(context, status.ok() ? "the command ended without an exit code" : context.client.Explain(status));
}

}  // namespace opctl::cli
