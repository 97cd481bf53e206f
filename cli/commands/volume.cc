// opctl volume backup NAME -o FILE.tar.gz [--node N]
// opctl volume restore NAME -f FILE.tar.gz [--force] [--node N]
// The archive is made and unpacked by the agent of the node that holds the volume (see
// proto/opctl/v1/operations.proto); the CLI only moves the bytes.
#include <cstdio>
#include <fstream>
#include <iostream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands/commands.h"

namespace opctl::cli {
namespace {

constexpr size_t kChunkBytes = 1 << 20;

std::string Seconds(absl::Duration elapsed) { return absl::StrFormat("%.1fs", absl::ToDoubleSeconds(elapsed)); }

int Backup(CommandContext& context, const std::string& volume) {
  std::string path = context.arguments.Get("output");
  if (path.empty()) return Fail(context, "volume backup needs -o FILE.tar.gz (or -o - for stdout)", 2);
  v1::BackupVolumeRequest request;
  request.set_name(volume);
  request.set_node_name(context.arguments.Get("node"));
  // Written beside the target and renamed at the end: a failed backup never leaves a file that looks whole.
  std::string partial = path + ".partial";
  std::ofstream file;
  if (path != "-") {
    file.open(partial, std::ios::binary | std::ios::trunc);
    if (!file) return Fail(context, absl::StrCat("cannot write ", partial));
  }
  std::ostream& out = path == "-" ? std::cout : file;
  absl::Time started = absl::Now();
  std::unique_ptr<StreamReader<v1::DataChunk>> reader = context.client.BackupVolume(request);
  int64_t bytes = 0;
  v1::DataChunk chunk;
  while (reader->Read(&chunk)) {
    out.write(chunk.data().data(), static_cast<std::streamsize>(chunk.data().size()));
    bytes += static_cast<int64_t>(chunk.data().size());
  }
  grpc::Status status = reader->Finish();
  out.flush();
  bool written = static_cast<bool>(out);
  if (path != "-") file.close();
  if (!status.ok() || !written) {
    if (path != "-") std::remove(partial.c_str());
    return Fail(context, status.ok()
                             ? absl::StrCat("cannot write ", partial)
                             : absl::StrCat("backup of volume ", volume, " failed: ", context.client.Explain(status)));
  }
  if (path != "-" && std::rename(partial.c_str(), path.c_str()) != 0) {
    return Fail(context, absl::StrCat("cannot rename ", partial, " to ", path));
  }
  if (path != "-") {
    context.out << "volume/" << volume << " backed up to " << path << " (" << bytes << " bytes in "
                << Seconds(absl::Now() - started) << ")\n";
  }
  return 0;
}

int Restore(CommandContext& context, const std::string& volume) {
  std::string path = context.arguments.Get("filename");
  if (path.empty()) return Fail(context, "volume restore needs -f FILE.tar.gz", 2);
  std::ifstream file(path, std::ios::binary);
  if (!file) return Fail(context, absl::StrCat("cannot read ", path));
  absl::Time started = absl::Now();
  v1::RestoreVolumeResponse response;
  std::unique_ptr<RestoreWriter> writer = context.client.RestoreVolume();
  v1::RestoreVolumeRequest message;
  message.mutable_target()->set_name(volume);
  message.mutable_target()->set_node_name(context.arguments.Get("node"));
  message.mutable_target()->set_force(context.arguments.Has("force"));
  bool open = writer->Write(message);
  std::string buffer(kChunkBytes, '\0');
  while (open && file) {
    file.read(buffer.data(), static_cast<std::streamsize>(buffer.size()));
    if (file.gcount() == 0) break;
    message.set_data(buffer.data(), static_cast<size_t>(file.gcount()));
    open = writer->Write(message);
  }
  grpc::Status status = writer->Finish(&response);
  if (!status.ok()) {
    return Fail(context, absl::StrCat("restore of volume ", volume, " failed: ", context.client.Explain(status)));
  }
  context.out << "volume/" << volume << " restored from " << path << " (" << response.bytes() << " bytes in "
              << Seconds(absl::Now() - started) << ")";
  if (response.restarted_size() > 0) context.out << "; restarted " << absl::StrJoin(response.restarted(), ", ");
  context.out << "\n";
  return 0;
}

}  // namespace

int RunVolume(CommandContext& context) {
  const std::vector<std::string>& words = context.arguments.positional();
  if (words.size() != 2 || (words[0] != "backup" && words[0] != "restore")) {
    return Fail(context, "usage: opctl volume backup NAME -o FILE.tar.gz | opctl volume restore NAME -f FILE.tar.gz",
                2);
  }
  std::string volume = words[1];
  if (volume.rfind("volume/", 0) == 0 || volume.rfind("vol/", 0) == 0) volume = volume.substr(volume.find('/') + 1);
  return words[0] == "backup" ? Backup(context, volume) : Restore(context, volume);
}

}  // namespace opctl::cli
