// opctl-bench failover: three controllers on one etcd cluster; the leader is killed with kill -9, and
// the clock runs to the first write acknowledged through another controller (a client that knows
// them all, moving on when one fails) and to the first heal only a leader makes: a Service applied
// just after the kill, expanded into its Container by the new leader's service controller.
#include <signal.h>

#include <iostream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/controller_channel.h"
#include "grpcpp/grpcpp.h"
#include "nlohmann/json.hpp"
#include "opctl/v1/controller.grpc.pb.h"
#include "tests/support/process.h"

namespace opctl::bench {

std::vector<std::string> EtcdStoreFlags(const std::string& endpoints, const std::string& certs,
                                        const std::string& prefix);
absl::StatusOr<std::unique_ptr<testing::Process>> StartController(const std::string& data_dir, int port,
                                                                  absl::Duration* startup,
                                                                  const std::vector<std::string>& store_flags);
int FreePort();

namespace {

using Json = nlohmann::json;

struct Controller {
  int port = 0;
  std::unique_ptr<testing::Process> process;
};

// Whether the controller's last word on the election is that it leads.
bool Leads(Controller& controller) {
  std::string log = controller.process->Output();
  size_t won = log.rfind("election: leading");
  return won != std::string::npos && log.find("election: ", won + 1) == std::string::npos;
}

// Whether the write was acknowledged (through any controller the channel reaches).
bool Apply(v1::Controller::Stub& stub, const v1::Object& object) {
  v1::ApplyRequest request;
  *request.add_objects() = object;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::ApplyResponse response;
  return stub.Apply(&context, request, &response).ok();
}

bool Exists(v1::Controller::Stub& stub, const std::string& kind, const std::string& name) {
  v1::GetRequest request;
  request.set_kind(kind);
  request.set_name(name);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  v1::Object object;
  return stub.Get(&context, request, &object).ok();
}

v1::Object Network(const std::string& name, int index) {
  v1::Object object;
  object.mutable_network()->mutable_metadata()->set_name(name);
  object.mutable_network()->mutable_spec()->set_subnet(absl::StrCat("10.", index / 250, ".", index % 250, ".0/24"));
  return object;
}

v1::Object OneReplica(const std::string& name) {
  v1::Object object;
  v1::Service* service = object.mutable_service();
  service->mutable_metadata()->set_name(name);
  service->mutable_spec()->set_replicas(1);
  service->mutable_spec()->mutable_template_()->set_image("opctl/busybox:test");
  return object;
}

double Max(const std::vector<double>& values) { return *std::max_element(values.begin(), values.end()); }
double Median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  return values[values.size() / 2];
}

}  // namespace

int Failover(const std::string& endpoints, const std::string& certs, int trials) {
  std::string dir = testing::MakeTempDir("opctl-bench-failover");
  std::vector<std::string> flags =
      EtcdStoreFlags(endpoints, certs, absl::StrCat("/bench-", absl::ToUnixNanos(absl::Now())));
  std::vector<Controller> controllers(3);
  std::vector<std::string> addresses;
  for (Controller& controller : controllers) {
    controller.port = FreePort();
    absl::Duration startup;
    auto started = StartController(dir, controller.port, &startup, flags);
    if (!started.ok()) {
      std::cerr << started.status() << "\n";
      return 1;
    }
    controller.process = *std::move(started);
    addresses.push_back(absl::StrCat("127.0.0.1:", controller.port));
  }
  // A client that knows every controller, as the CLI and agents are given them.
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      ControllerChannel(absl::StrJoin(addresses, ","), grpc::InsecureChannelCredentials());
  if (!channel.ok()) {
    std::cerr << channel.status() << "\n";
    return 1;
  }
  auto stub = v1::Controller::NewStub(*channel);
  std::vector<double> to_write, to_heal;
  for (int trial = 0; trial < trials; ++trial) {
    int leader = -1;
    absl::Time deadline = absl::Now() + absl::Seconds(30);
    while (leader < 0 && absl::Now() < deadline) {
      for (size_t i = 0; i < controllers.size(); ++i) {
        if (Leads(controllers[i])) leader = static_cast<int>(i);
      }
      if (leader < 0) absl::SleepFor(absl::Milliseconds(20));
    }
    if (leader < 0 || !Apply(*stub, Network(absl::StrCat("before-", trial), 2 * trial))) {
      std::cerr << "failover: no leader, or no write before trial " << trial << "\n";
      return 1;
    }
    absl::Time killed = absl::Now();
    controllers[leader].process->Signal(SIGKILL);
    controllers[leader].process->Wait();
    while (!Apply(*stub, Network(absl::StrCat("after-", trial), 2 * trial + 1))) {
    }
    to_write.push_back(absl::ToDoubleSeconds(absl::Now() - killed));
    std::string service = absl::StrCat("heal-", trial);
    while (!Apply(*stub, OneReplica(service))) {
    }
    while (!Exists(*stub, "Container", service + "-0") && absl::Now() - killed < absl::Seconds(60)) {
      absl::SleepFor(absl::Milliseconds(5));
    }
    to_heal.push_back(absl::ToDoubleSeconds(absl::Now() - killed));
    absl::Duration startup;
    auto restarted = StartController(dir, controllers[leader].port, &startup, flags);
    if (!restarted.ok()) {
      std::cerr << restarted.status() << "\n";
      return 1;
    }
    controllers[leader].process = *std::move(restarted);
  }
  std::cout << Json{{"trials", trials},
                    {"to_write_p50_s", Median(to_write)},
                    {"to_write_max_s", Max(to_write)},
                    {"to_heal_p50_s", Median(to_heal)},
                    {"to_heal_max_s", Max(to_heal)}}
                   .dump()
            << "\n";
  for (Controller& controller : controllers) controller.process->Signal(SIGTERM);
  return 0;
}

}  // namespace opctl::bench
