// An in-memory ControllerApi for the commands' unit tests: objects by kind and name, the requests it
// got, an error to answer a method with, and scripted streams. Not the controller's rules: what a
// command prints for a given answer is what these tests check; the real controller is in the
// integration tests.
#pragma once

#include <deque>
#include <map>
#include <string>
#include <vector>

#include "cli/controller_api.h"
#include "common/object.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::cli::testing {

template <typename Message>
class ScriptedReader : public StreamReader<Message> {
 public:
  ScriptedReader(std::deque<Message> messages, grpc::Status end) : messages_(std::move(messages)), end_(end) {}
  bool Read(Message* message) override {
    if (messages_.empty()) return false;
    *message = messages_.front();
    messages_.pop_front();
    return true;
  }
  grpc::Status Finish() override { return end_; }

 private:
  std::deque<Message> messages_;
  grpc::Status end_;
};

// A bidirectional stream that keeps what is written and answers a script (single-threaded use).
template <typename Request, typename Response>
class ScriptedBidi : public BidiStream<Request, Response> {
 public:
  ScriptedBidi(std::vector<Request>& written, std::deque<Response> messages, grpc::Status end)
      : written_(written), reader_(std::move(messages), end) {}
  bool Write(const Request& message) override {
    written_.push_back(message);
    return true;
  }
  bool WritesDone() override { return true; }
  bool Read(Response* message) override { return reader_.Read(message); }
  grpc::Status Finish() override { return reader_.Finish(); }

 private:
  std::vector<Request>& written_;
  ScriptedReader<Response> reader_;
};

class FakeController : public ControllerApi {
 public:
  void Add(const v1::Object& object) { objects_[{KindOf(object), MetaOf(object).name()}] = object; }
  // The next call of `method` ("Get", "Apply", ...) answers `status`, once.
  void FailNext(const std::string& method, grpc::Status status) { failures_[method] = status; }
  const std::vector<std::string>& calls() const { return calls_; }

  grpc::Status Apply(const v1::ApplyRequest& request, v1::ApplyResponse* response) override {
    if (grpc::Status failed = Called("Apply"); !failed.ok()) return failed;
    applied.push_back(request);
    for (const v1::Object& object : request.objects()) {
      v1::ApplyResult* result = response->add_results();
      result->set_kind(KindOf(object));
      result->set_name(MetaOf(object).name());
      auto stored = objects_.find({KindOf(object), MetaOf(object).name()});
      bool existed = stored != objects_.end();
      bool same = existed && google::protobuf::util::MessageDifferencer::Equals(stored->second, object);
      result->set_action(!existed ? "created" : same ? "unchanged" : "configured");
      if (request.dry_run()) *result->mutable_object() = object;
      if (!request.dry_run()) Add(object);
    }
    return grpc::Status::OK;
  }
  grpc::Status Get(const v1::GetRequest& request, v1::Object* object) override {
    if (grpc::Status failed = Called("Get"); !failed.ok()) return failed;
    auto it = Stored(request.kind(), request.name());
    if (it == objects_.end()) return NotFound(request.kind(), request.name());
    *object = it->second;
    return grpc::Status::OK;
  }
  grpc::Status List(const v1::ListRequest& request, v1::ListResponse* response) override {
    if (grpc::Status failed = Called("List"); !failed.ok()) return failed;
    const KindInfo* kind = FindKind(request.kind());
    for (const auto& [key, object] : objects_) {
      if (request.kind().empty() || (kind && key.first == kind->kind)) *response->add_items() = object;
    }
    response->set_revision(revision);
    return grpc::Status::OK;
  }
  grpc::Status Delete(const v1::DeleteRequest& request, v1::DeleteResponse* response) override {
    if (grpc::Status failed = Called("Delete"); !failed.ok()) return failed;
    auto it = Stored(request.kind(), request.name());
    if (it == objects_.end()) return NotFound(request.kind(), request.name());
    response->add_deleted(DisplayName(it->second));
    objects_.erase(it);
    return grpc::Status::OK;
  }
  grpc::Status Scale(const v1::ScaleRequest& request, v1::Object* object) override {
    scaled.push_back(request);
    return Change("Scale", kKindService, request.name(), object, [&](v1::Object& service) {
      service.mutable_service()->mutable_spec()->set_replicas(request.replicas());
    });
  }
  grpc::Status Cordon(const v1::CordonRequest& request, v1::Object* node) override {
    return Change("Cordon", kKindNode, request.name(), node, [&](v1::Object& stored) {
      stored.mutable_node()->mutable_spec()->set_unschedulable(request.unschedulable());
    });
  }
  grpc::Status Evict(const v1::EvictRequest& request, v1::Object* container) override {
    return Change("Evict", kKindContainer, request.name(), container,
                  [](v1::Object& stored) { stored.mutable_container()->mutable_spec()->clear_node_name(); });
  }
  grpc::Status ListControllers(const v1::ListControllersRequest&, v1::ListControllersResponse* response) override {
    Called("ListControllers");
    *response = control_plane;
    return grpc::Status::OK;
  }
  grpc::Status Top(const v1::TopRequest& request, v1::TopResponse* response) override {
    Called("Top");
    top_requested.push_back(request);
    *response = top_answer;
    return grpc::Status::OK;
  }
  std::unique_ptr<StreamReader<v1::WatchEvent>> Watch(const v1::WatchRequest&) override {
    Called("Watch");
    return std::make_unique<ScriptedReader<v1::WatchEvent>>(watch_events, watch_end);
  }
  std::unique_ptr<StreamReader<v1::LogChunk>> Logs(const v1::LogsRequest& request) override {
    Called("Logs");
    logs_requested.push_back(request);
    return std::make_unique<ScriptedReader<v1::LogChunk>>(log_chunks, logs_end);
  }
  std::unique_ptr<StreamReader<v1::DataChunk>> BackupVolume(const v1::BackupVolumeRequest&) override {
    Called("BackupVolume");
    return std::make_unique<ScriptedReader<v1::DataChunk>>(backup_chunks, backup_end);
  }
  std::unique_ptr<RestoreWriter> RestoreVolume() override;
  std::unique_ptr<BidiStream<v1::ExecRequest, v1::ExecResponse>> Exec() override {
    Called("Exec");
    return std::make_unique<ScriptedBidi<v1::ExecRequest, v1::ExecResponse>>(exec_sent, exec_answers, exec_end);
  }
  std::unique_ptr<BidiStream<v1::PortForwardRequest, v1::PortForwardResponse>> PortForward() override {
    Called("PortForward");
    return std::make_unique<ScriptedBidi<v1::PortForwardRequest, v1::PortForwardResponse>>(
        forward_sent, std::deque<v1::PortForwardResponse>{}, forward_end);
  }
  std::string Explain(const grpc::Status& status) const override { return status.error_message(); }

  // What the commands sent, and what the streams answer.
  std::vector<v1::ApplyRequest> applied;
  std::vector<v1::ScaleRequest> scaled;
  std::vector<v1::LogsRequest> logs_requested;
  std::vector<v1::RestoreVolumeRequest> restored;
  std::vector<v1::TopRequest> top_requested;
  v1::TopResponse top_answer;
  std::vector<v1::ExecRequest> exec_sent;
  std::deque<v1::ExecResponse> exec_answers;
  grpc::Status exec_end = grpc::Status::OK;
  std::vector<v1::PortForwardRequest> forward_sent;
  grpc::Status forward_end = grpc::Status::OK;
  int64_t revision = 7;
  std::deque<v1::WatchEvent> watch_events;
  grpc::Status watch_end{grpc::StatusCode::INVALID_ARGUMENT, "end of the scripted watch"};
  std::deque<v1::LogChunk> log_chunks;
  grpc::Status logs_end = grpc::Status::OK;
  std::deque<v1::DataChunk> backup_chunks;
  grpc::Status backup_end = grpc::Status::OK;
  v1::RestoreVolumeResponse restore_response;
  v1::ListControllersResponse control_plane;
  grpc::Status restore_end = grpc::Status::OK;

 private:
  grpc::Status Called(const std::string& method) {
    calls_.push_back(method);
    auto it = failures_.find(method);
    if (it == failures_.end()) return grpc::Status::OK;
    grpc::Status status = it->second;
    failures_.erase(it);
    return status;
  }

  // The object by any name of its kind ("svc", "service", "Service").
  std::map<std::pair<std::string, std::string>, v1::Object>::iterator Stored(const std::string& kind,
                                                                             const std::string& name) {
    const KindInfo* known = FindKind(kind);
    return objects_.find({known ? known->kind : kind, name});
  }
  static grpc::Status NotFound(const std::string& kind, const std::string& name) {
    return {grpc::StatusCode::NOT_FOUND, absl::StrCat(kind, " \"", name, "\" not found")};
  }
  // Changes the stored `kind`/`name` as `change` says and answers it, as Scale, Cordon and Evict do.
  template <typename Mutation>
  grpc::Status Change(const std::string& method, const std::string& kind, const std::string& name, v1::Object* answer,
                      Mutation change) {
    if (grpc::Status failed = Called(method); !failed.ok()) return failed;
    auto it = Stored(kind, name);
    if (it == objects_.end()) return NotFound(kind, name);
    change(it->second);
    *answer = it->second;
    return grpc::Status::OK;
  }

  std::map<std::pair<std::string, std::string>, v1::Object> objects_;
  std::map<std::string, grpc::Status> failures_;
  std::vector<std::string> calls_;
};

class RecordingRestoreWriter : public RestoreWriter {
 public:
  explicit RecordingRestoreWriter(FakeController& fake) : fake_(fake) {}
  bool Write(const v1::RestoreVolumeRequest& message) override {
    fake_.restored.push_back(message);
    return true;
  }
  grpc::Status Finish(v1::RestoreVolumeResponse* response) override {
    *response = fake_.restore_response;
    return fake_.restore_end;
  }

 private:
  FakeController& fake_;
};

inline std::unique_ptr<RestoreWriter> FakeController::RestoreVolume() {
  Called("RestoreVolume");
  return std::make_unique<RecordingRestoreWriter>(*this);
}

}  // namespace opctl::cli::testing
