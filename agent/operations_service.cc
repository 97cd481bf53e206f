#include "agent/operations_service.h"

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <set>
#include <system_error>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "agent/container_spec.h"
#include "agent/tar_writer.h"
#include "common/api_names.h"
#include "common/grpc_status.h"
#include "common/quote.h"
#include "common/tls.h"

namespace opctl::agent {
namespace {

constexpr size_t kStatsSamplers = 8;

}  // namespace

OperationsService::OperationsService(DockerClient& docker, VolumeArchiver& archiver, std::string node_name,
                                     bool controller_only, absl::Duration write_timeout)
    : docker_(docker),
      archiver_(archiver),
      watchdog_(write_timeout),
      node_name_(std::move(node_name)),
      controller_only_(controller_only) {}

grpc::Status OperationsService::CheckCaller(const grpc::ServerContext& context) const {
  return controller_only_ ? RequireControllerPeer(context) : grpc::Status::OK;
}

grpc::Status OperationsService::CheckNode(const std::string& node_name) const {
  if (node_name.empty() || node_name == node_name_) return grpc::Status::OK;
  return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                      absl::StrCat("this is the agent of node ", node_name_, ", not of ", node_name));
}

absl::StatusOr<DockerContainer> OperationsService::FindContainer(const std::string& name) {
  std::map<std::string, std::string> labels = ManagedLabels(node_name_);
  labels[kNameLabel] = name;
  absl::StatusOr<std::vector<DockerContainer>> found = docker_.ListContainers(labels);
  if (!found.ok()) return found.status();
  if (found->empty()) {
    return absl::NotFoundError(absl::StrCat("container ", Quote(name), " has no Docker container on node ", node_name_,
                                            " (not created yet, or removed)"));
  }
  return found->front();
}

grpc::Status OperationsService::Logs(grpc::ServerContext* context, const v1::LogsRequest* request,
                                     grpc::ServerWriter<v1::LogChunk>* writer) {
  if (grpc::Status allowed = CheckCaller(*context); !allowed.ok()) return allowed;
  if (!request->kind().empty() && request->kind() != kKindContainer) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "an agent serves the logs of Containers only");
  }
  absl::StatusOr<DockerContainer> found = FindContainer(request->name());
  if (!found.ok()) return ToGrpcStatus(found.status());
  DockerLogOptions options;
  options.follow = request->follow();
  options.tail = request->tail();
  options.timestamps = request->timestamps();
  if (request->since_seconds() > 0) options.since_unix = absl::ToUnixSeconds(absl::Now()) - request->since_seconds();
  absl::Status streamed = docker_.StreamLogs(
      found->id, options,
      [&](int stream, std::string_view data) {
        v1::LogChunk chunk;
        chunk.set_container(request->name());
        chunk.set_stream(stream == 2 ? v1::LogChunk::STDERR : v1::LogChunk::STDOUT);
        chunk.set_data(std::string(data));
        return watchdog_.TimedWrite(*context, [&] { return writer->Write(chunk); });
      },
      [context] { return context->IsCancelled(); });
  if (!streamed.ok() && absl::StrContains(streamed.message(), "does not support reading")) {
    return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                        absl::StrCat("container ", request->name(), " on node ", node_name_,
                                     " logs through a driver whose output Docker does not keep (logs.driver none, "
                                     "or a remote one with logs.options.cache-disabled: \"true\"): read its "
                                     "output where the driver sends it"));
  }
  return ToGrpcStatus(streamed);
}

grpc::Status OperationsService::Top(grpc::ServerContext* context, const v1::TopRequest* request,
                                    v1::TopResponse* response) {
  if (grpc::Status allowed = CheckCaller(*context); !allowed.ok()) return allowed;
  if (grpc::Status node = CheckNode(request->node_name()); !node.ok()) return node;
  absl::StatusOr<std::vector<DockerContainer>> listed = docker_.ListContainers(ManagedLabels(node_name_));
  if (!listed.ok()) return ToGrpcStatus(listed.status());
  std::set<std::string> wanted(request->containers().begin(), request->containers().end());
  std::vector<DockerContainer> running;
  for (DockerContainer& container : *listed) {
    const std::string& name = container.labels[kNameLabel];
    if (container.state == "running" && (wanted.empty() || wanted.count(name) > 0)) running.push_back(container);
  }
  // Docker takes about a second per sample: they are taken side by side, a few at a time.
  std::vector<absl::StatusOr<DockerStats>> samples(running.size(), absl::UnknownError("not sampled"));
  std::atomic<size_t> next{0};
  auto sample = [&] {
    for (size_t at; (at = next++) < running.size() && !context->IsCancelled();) {
      samples[at] = docker_.ContainerStats(running[at].id);
    }
  };
  std::vector<std::thread> samplers;
  try {
    while (samplers.size() < std::min<size_t>(running.size(), kStatsSamplers)) samplers.emplace_back(sample);
  } catch (const std::system_error&) {
    sample();  // no more threads: this one samples what is left
  }
  for (std::thread& sampler : samplers) sampler.join();
  for (size_t i = 0; i < running.size(); ++i) {
    if (!samples[i].ok()) continue;  // gone since the list: it runs no more
    const DockerStats& stats = *samples[i];
    v1::ContainerUsage* usage = response->add_containers();
    usage->set_container(running[i].labels[kNameLabel]);
    usage->set_node_name(node_name_);
    usage->set_cpu_percent(stats.cpu_percent);
    usage->set_memory_bytes(stats.memory_bytes);
    usage->set_memory_limit_bytes(stats.memory_limit_bytes);
    usage->set_network_rx_bytes(stats.network_rx_bytes);
    usage->set_network_tx_bytes(stats.network_tx_bytes);
    usage->set_block_read_bytes(stats.block_read_bytes);
    usage->set_block_write_bytes(stats.block_write_bytes);
    usage->set_pids(stats.pids);
  }
  return grpc::Status::OK;
}

grpc::Status OperationsService::BackupVolume(grpc::ServerContext* context, const v1::BackupVolumeRequest* request,
                                             grpc::ServerWriter<v1::DataChunk>* writer) {
  if (grpc::Status allowed = CheckCaller(*context); !allowed.ok()) return allowed;
  if (grpc::Status node = CheckNode(request->node_name()); !node.ok()) return node;
  absl::StatusOr<int64_t> bytes = archiver_.Backup(
      request->name(),
      [this, context, writer](std::string_view data) {
        v1::DataChunk chunk;
        chunk.set_data(std::string(data));
        return watchdog_.TimedWrite(*context, [&] { return writer->Write(chunk); });
      },
      [context] { return context->IsCancelled(); });
  return ToGrpcStatus(bytes.status());
}

grpc::Status OperationsService::RestoreVolume(grpc::ServerContext* context,
                                              grpc::ServerReader<v1::RestoreVolumeRequest>* reader,
                                              v1::RestoreVolumeResponse* response) {
  if (grpc::Status allowed = CheckCaller(*context); !allowed.ok()) return allowed;  // before reading any data
  v1::RestoreVolumeRequest message;
  if (!reader->Read(&message) || !message.has_target()) {
    return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "the first message must name the target volume");
  }
  const v1::RestoreVolumeRequest::Target target = message.target();
  if (grpc::Status node = CheckNode(target.node_name()); !node.ok()) return node;
  std::string path = absl::StrCat(archiver_.options().scratch_dir, "/opctl-restore-", getpid(), "-",
                                  absl::ToUnixNanos(absl::Now()), ".tar");
  absl::Status result = [&]() -> absl::Status {
    TarFileWriter tar;
    if (absl::Status opened = tar.Open(path, kRestoreArchiveEntry); !opened.ok()) return opened;
    int64_t limit = archiver_.options().max_restore_bytes;
    while (reader->Read(&message)) {
      if (tar.data_bytes() + static_cast<int64_t>(message.data().size()) > limit) {
        return absl::ResourceExhaustedError(
            absl::StrCat("the archive is larger than the ", limit >> 20, " MiB this agent takes for a restore"));
      }
      if (absl::Status appended = tar.Append(message.data()); !appended.ok()) return appended;
    }
    if (context->IsCancelled()) return absl::CancelledError("the restore was cancelled before all data arrived");
    if (tar.data_bytes() == 0) return absl::InvalidArgumentError("the archive is empty");
    if (absl::Status finished = tar.Finish(); !finished.ok()) return finished;
    response->set_bytes(tar.data_bytes());
    absl::StatusOr<std::vector<std::string>> restarted = archiver_.Restore(target.name(), path, target.force());
    if (!restarted.ok()) return restarted.status();
    for (const std::string& name : *restarted) response->add_restarted(name);
    return absl::OkStatus();
  }();
  std::remove(path.c_str());
  return ToGrpcStatus(result);
}

}  // namespace opctl::agent
