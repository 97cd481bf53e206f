// libFuzzer target: the controller's gRPC services themselves, in a real gRPC server (in process, no
// port) over the real registry, validation, watch hub and SQLite store. Each input picks a method
// with its first byte; the rest is sent as that method's request, raw, so gRPC decodes whatever the
// fuzzer wrote (wire format, as a hostile client sends it) and the services handle whatever decodes.
// Nothing may crash, hang or trip a sanitizer; the server must answer every call.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <future>
#include <memory>
#include <string>

#include "common/malformed_requests.h"
#include "controller/agent_service.h"
#include "controller/authorizer.h"
#include "controller/controller_service.h"
#include "controller/controllers.h"
#include "controller/events/event_writer.h"
#include "controller/node_monitor.h"
#include "controller/registry.h"
#include "controller/runtime/manager.h"
#include "controller/store/sqlite_store.h"
#include "controller/watch_hub.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"

namespace opctl::controller {
namespace {

constexpr const char* kUnaryMethods[] = {
    "/opctl.v1.Controller/Apply",  "/opctl.v1.Controller/UpdateStatus", "/opctl.v1.Agent/Heartbeat",
    "/opctl.v1.Controller/Delete", "/opctl.v1.Controller/Scale",        "/opctl.v1.Controller/List",
    "/opctl.v1.Controller/Get",    "/opctl.v1.Controller/Cordon",       "/opctl.v1.Controller/Evict",
    "/opctl.v1.Agent/AgentGone",   "/opctl.v1.Agent/ReleaseFinalizer",  "/opctl.v1.Agent/ReportEvents",
};
constexpr size_t kMethods = sizeof(kUnaryMethods) / sizeof(kUnaryMethods[0]) + 1;  // + Watch

// One controller for the whole run, as opctl-controller wires it (everyone admin: the checks the
// fuzzer should reach are the ones behind authorisation).
struct Controller {
  Controller() {
    char pattern[] = "/tmp/opctl-fuzz-grpc-XXXXXX";
    directory = mkdtemp(pattern);
    store = *SqliteStore::Open(directory);
    hub = std::make_unique<WatchHub>(*store, absl::Milliseconds(10));
    registry = std::make_unique<Registry>(*store, Clock::Real());
    // Not leading: the informers and the placement index follow, no controller writes.
    manager = std::make_unique<Manager>(*registry, *hub, Clock::Real(), Logger::Stderr());
    services = std::make_unique<Controllers>(*manager, *registry, Clock::Real());
    if (!manager->Start().ok()) std::abort();
    monitor = std::make_unique<NodeMonitor>(*registry, Clock::Real());
    events = std::make_unique<EventWriter>(*registry, Clock::Real());
    controller_service = std::make_unique<ControllerService>(*registry, *hub, authorizer);
    agent_service = std::make_unique<AgentService>(*registry, *monitor, services->placement(), authorizer, *events);
    grpc::ServerBuilder builder;
    builder.RegisterService(controller_service.get());
    builder.RegisterService(agent_service.get());
    builder.experimental().SetInterceptorCreators(MalformedRequestInterceptors());
    server = builder.BuildAndStart();
    channel = server->InProcessChannel(grpc::ChannelArguments());
    generic = std::make_unique<grpc::GenericStub>(channel);
    stub = v1::Controller::NewStub(channel);
  }

  std::string directory;
  Authorizer authorizer = Authorizer::AllowAll();
  std::unique_ptr<SqliteStore> store;
  std::unique_ptr<WatchHub> hub;
  std::unique_ptr<Registry> registry;
  std::unique_ptr<Manager> manager;
  std::unique_ptr<Controllers> services;
  std::unique_ptr<NodeMonitor> monitor;
  std::unique_ptr<EventWriter> events;
  std::unique_ptr<ControllerService> controller_service;
  std::unique_ptr<AgentService> agent_service;
  std::unique_ptr<grpc::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<grpc::GenericStub> generic;
  std::unique_ptr<v1::Controller::Stub> stub;
};

Controller& TheController() {
  static Controller* controller = new Controller();  // lives until exit, as the server's threads do
  return *controller;
}

void Call(const std::string& method, const uint8_t* data, size_t size) {
  Controller& controller = TheController();
  grpc::Slice slice(data, size);
  grpc::ByteBuffer request(&slice, 1), response;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  std::promise<grpc::Status> answered;
  controller.generic->UnaryCall(&context, method, grpc::StubOptions(), &request, &response,
                                [&](grpc::Status status) { answered.set_value(status); });
  grpc::Status status = answered.get_future().get();
  // A deadline means the server hung on this input.
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    std::fprintf(stderr, "%s did not answer within 5 s\n", method.c_str());
    std::abort();
  }
}

// A watch decoded from the input: replayed, filtered and cut off after a moment.
void Watch(const uint8_t* data, size_t size) {
  v1::WatchRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return;  // raw bytes reach it through Call
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(20));
  std::unique_ptr<grpc::ClientReader<v1::WatchEvent>> reader = TheController().stub->Watch(&context, request);
  v1::WatchEvent event;
  for (int events = 0; events < 100 && reader->Read(&event); ++events) {
  }
  context.TryCancel();
  reader->Finish();
}

}  // namespace
}  // namespace opctl::controller

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t method = data[0] % opctl::controller::kMethods;
  if (method == opctl::controller::kMethods - 1) {
    opctl::controller::Watch(data + 1, size - 1);
  } else {
    opctl::controller::Call(opctl::controller::kUnaryMethods[method], data + 1, size - 1);
  }
  return 0;
}
