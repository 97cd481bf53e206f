// opctl-bench control-plane --agents K --containers M: a real opctl-controller with its real store,
// K simulated agents (each a real heartbeat loop and a real node-filtered watch stream that writes a
// Running status for every Container bound to it), and Services that expand into M Containers.
// Prints one JSON line: apply throughput and latency, watch delivery latency to K watchers, memory
// per object and per stream, restart time with M objects, and this disk's fsync time (the floor of
// one durable write).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "common/clock.h"
#include "grpcpp/grpcpp.h"
#include "opctl/v1/agent.grpc.pb.h"
#include "opctl/v1/controller.grpc.pb.h"
#include "tests/support/metrics_scrape.h"
#include "tests/support/process.h"

namespace opctl::bench {
namespace {

using Json = nlohmann::json;

double Percentile(std::vector<double> values, double p) {
  if (values.empty()) return -1;
  std::sort(values.begin(), values.end());
  return values[std::min(values.size() - 1, static_cast<size_t>(p * (values.size() - 1) + 0.5))];
}

long RssKib(pid_t pid) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stol(line.substr(6));
  }
  return 0;
}

// Median time of a 4 KiB write plus fdatasync in `dir`: what one durable write costs at least.
double FsyncMilliseconds(const std::string& dir) {
  std::string path = dir + "/fsync-probe";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::string block(4096, 'x');
  std::vector<double> samples;
  for (int i = 0; i < 100; ++i) {
    absl::Time start = absl::Now();
    if (pwrite(fd, block.data(), block.size(), static_cast<off_t>(i) * 4096) < 0 || fdatasync(fd) != 0) break;
    samples.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
  }
  close(fd);
  unlink(path.c_str());
  return Percentile(samples, 0.5);
}

}  // namespace

std::vector<std::string> EtcdStoreFlags(const std::string& endpoints, const std::string& certs,
                                        const std::string& prefix) {
  return {"--store=etcd",
          "--etcd_endpoints=" + endpoints,
          "--etcd_ca=" + certs + "/ca.crt",
          "--etcd_cert=" + certs + "/controller.crt",
          "--etcd_key=" + certs + "/controller.key",
          "--etcd_prefix=" + prefix};
}

absl::StatusOr<std::unique_ptr<testing::Process>> StartController(const std::string& data_dir, int port,
                                                                  absl::Duration* startup,
                                                                  const std::vector<std::string>& store_flags) {
  absl::Time start = absl::Now();
  // Plaintext: the simulated agents measure the control plane's work, not TLS handshakes.
  std::vector<std::string> argv = {testing::BinaryPath("opctl-controller"), absl::StrCat("--listen=127.0.0.1:", port),
                                   "--data-dir=" + data_dir, "--insecure"};
  argv.insert(argv.end(), store_flags.begin(), store_flags.end());
  auto process =
      testing::Process::Start(argv, absl::StrCat(data_dir, "/controller-", absl::ToUnixNanos(start), ".log"));
  if (!process.ok()) return process.status();
  absl::StatusOr<std::string> line = (*process)->WaitForLine("serving on", absl::Minutes(5));
  if (!line.ok()) return line.status();
  *startup = absl::Now() - start;
  return process;
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
  socklen_t length = sizeof(address);
  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  close(fd);
  return ntohs(address.sin_port);
}

namespace {

// One simulated agent: heartbeats come from a shared loop; the watch runs on its own thread.
class SimulatedAgent {
 public:
  SimulatedAgent(std::shared_ptr<grpc::Channel> channel, std::string name)
      : controller_(v1::Controller::NewStub(channel)), agent_(v1::Agent::NewStub(channel)), name_(std::move(name)) {}
  ~SimulatedAgent() { Stop(); }

  bool Heartbeat() {
    v1::HeartbeatRequest request;
    request.mutable_node()->mutable_metadata()->set_name(name_);
    request.mutable_node()->mutable_status()->mutable_capacity()->set_memory_bytes(int64_t{64} << 30);
    request.mutable_node()->mutable_status()->mutable_capacity()->set_milli_cpus(64000);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    v1::HeartbeatResponse response;
    return agent_->Heartbeat(&context, request, &response).ok();
  }

  // `on_volume` gets each Volume event's arrival; Containers bound here get a Running status.
  void StartWatch(std::function<void(const v1::Volume&, absl::Time)> on_volume, std::atomic<int64_t>* statuses) {
    thread_ = std::thread([this, on_volume, statuses] {
      v1::WatchRequest request;
      request.set_node_name(name_);
      {
        absl::MutexLock lock(&mutex_);
        context_ = std::make_unique<grpc::ClientContext>();
      }
      auto reader = controller_->Watch(context_.get(), request);
      v1::WatchEvent event;
      while (reader->Read(&event)) {
        absl::Time now = absl::Now();
        if (event.object().has_volume()) on_volume(event.object().volume(), now);
        if (event.type() != v1::WatchEvent::ADDED || !event.object().has_container()) continue;
        v1::UpdateStatusRequest update;
        v1::Container* container = update.mutable_object()->mutable_container();
        container->mutable_metadata()->set_name(event.object().container().metadata().name());
        container->mutable_status()->set_phase("Running");
        container->mutable_status()->set_observed_generation(event.object().container().metadata().generation());
        grpc::ClientContext context;
        v1::Object written;
        if (controller_->UpdateStatus(&context, update, &written).ok()) ++*statuses;
      }
      reader->Finish();
    });
  }

  void Stop() {
    {
      absl::MutexLock lock(&mutex_);
      if (context_) context_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::unique_ptr<v1::Controller::Stub> controller_;
  std::unique_ptr<v1::Agent::Stub> agent_;
  std::string name_;
  absl::Mutex mutex_;
  std::unique_ptr<grpc::ClientContext> context_;
  std::thread thread_;
};

v1::Object SmallService(const std::string& name, int replicas) {
  v1::Object object;
  v1::Service* service = object.mutable_service();
  service->set_api_version("opctl.io/v1");
  service->set_kind("Service");
  service->mutable_metadata()->set_name(name);
  service->mutable_metadata()->set_stack("bench");
  service->mutable_spec()->set_replicas(replicas);
  service->mutable_spec()->mutable_template_()->set_image("opctl/busybox:test");
  service->mutable_spec()->mutable_template_()->mutable_resources()->set_memory_reservation("1m");
  return object;
}

v1::Object MarkedVolume(const std::string& name, absl::Time sent) {
  v1::Object object;
  v1::Volume* volume = object.mutable_volume();
  volume->set_api_version("opctl.io/v1");
  volume->set_kind("Volume");
  volume->mutable_metadata()->set_name(name);
  (*volume->mutable_metadata()->mutable_annotations())["bench.opctl.io/sent"] = absl::StrCat(absl::ToUnixNanos(sent));
  return object;
}

}  // namespace

// With metrics on, a scraper reads /metrics every second (Prometheus' usual interval is 15 s: this
// is the cost at its most), recording how long a scrape takes and how many series it has.
class Scraper {
 public:
  explicit Scraper(std::string address) : address_(std::move(address)) {
    thread_ = std::thread([this] {
      while (!stop_) {
        absl::Time start = absl::Now();
        std::string text = testing::Scrape(address_);
        double took_ms = absl::ToDoubleMilliseconds(absl::Now() - start);
        int64_t series = 0;
        for (size_t at = 0; at < text.size();) {
          size_t end = text.find('\n', at);
          if (end == std::string::npos) end = text.size();
          if (end > at && text[at] != '#') ++series;
          at = end + 1;
        }
        {
          absl::MutexLock lock(&mutex_);
          scrape_ms_.push_back(took_ms);
          series_ = std::max(series_, series);
        }
        absl::SleepFor(absl::Seconds(1) - (absl::Now() - start));
      }
    });
  }
  ~Scraper() {
    stop_ = true;
    thread_.join();
  }
  void Report(Json& result) {
    absl::MutexLock lock(&mutex_);
    result["metric_series"] = series_;
    result["scrape_p50_ms"] = Percentile(scrape_ms_, 0.5);
    result["scrape_max_ms"] = Percentile(scrape_ms_, 1.0);
  }

 private:
  const std::string address_;
  std::atomic<bool> stop_ = false;
  absl::Mutex mutex_;
  std::vector<double> scrape_ms_;
  int64_t series_ = 0;
  std::thread thread_;
};

// Apply latency at a steady 50 applies per second (one Volume each, acknowledged = synced).
std::vector<double> ApplyLatencies(v1::Controller::Stub& stub, const std::string& prefix) {
  std::vector<double> apply_ms;
  for (int i = 0; i < 200; ++i) {
    absl::Time start = absl::Now();
    v1::ApplyRequest request;
    *request.add_objects() = MarkedVolume(absl::StrCat(prefix, i), start);
    grpc::ClientContext context;
    v1::ApplyResponse response;
    if (stub.Apply(&context, request, &response).ok())
      apply_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    absl::SleepFor(absl::Milliseconds(20) - (absl::Now() - start));
  }
  return apply_ms;
}

// A crash loop on every node at once, and then some: each of K agents reports 100 containers
// restarting (an Event each) ten times a second, far more than agents that fold would send.
class EventFlood {
 public:
  EventFlood(std::shared_ptr<grpc::Channel> channel, int agents) : stub_(v1::Agent::NewStub(channel)) {
    thread_ = std::thread([this, agents] {
      while (!stop_) {
        absl::Time round = absl::Now();
        for (int node = 0; node < agents && !stop_; ++node) Report(absl::StrCat("sim-", node));
        absl::SleepFor(absl::Milliseconds(100) - (absl::Now() - round));
      }
    });
  }
  // Stops; the occurrences reported.
  int64_t Stop() {
    stop_ = true;
    thread_.join();
    return reported_;
  }

 private:
  void Report(const std::string& node) {
    v1::ReportEventsRequest request;
    request.set_node_name(node);
    std::string now = FormatMicroTimestamp(absl::Now());
    for (int i = 0; i < 100; ++i) {
      v1::Event* event = request.add_events();
      event->mutable_involved_object()->set_kind("Container");
      event->mutable_involved_object()->set_name(absl::StrCat(node, "-crash-", i));
      event->set_reason("BackOff");
      event->set_type("Warning");
      event->set_message("Docker restarted the container after it exited");
      event->set_count(1);
      event->set_first_timestamp(now);
      event->set_last_timestamp(now);
    }
    grpc::ClientContext context;
    v1::ReportEventsResponse response;
    if (stub_->ReportEvents(&context, request, &response).ok()) reported_ += request.events_size();
  }

  std::unique_ptr<v1::Agent::Stub> stub_;
  std::atomic<bool> stop_ = false;
  int64_t reported_ = 0;  // the flood's thread's until Stop
  std::thread thread_;
};

int ControlPlane(int agents, int containers, const std::vector<std::string>& store_flags, bool metrics) {
  std::string dir = testing::MakeTempDir("opctl-bench-cp");
  int port = FreePort();
  absl::Duration first_start;
  std::vector<std::string> flags = store_flags;
  flags.push_back(metrics ? "--metrics-listen=127.0.0.1:0" : "--metrics-listen=");
  auto controller = StartController(dir, port, &first_start, flags);
  if (!controller.ok()) {
    std::cerr << controller.status() << "\n";
    return 1;
  }
  std::optional<Scraper> scraper;
  if (metrics) scraper.emplace(testing::MetricsAddress((*controller)->Output()));
  pid_t pid = (*controller)->pid();
  std::string address = absl::StrCat("127.0.0.1:", port);
  auto channel = [&] {
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(512 << 20);
    return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), arguments);
  };
  auto stub = v1::Controller::NewStub(channel());
  Json result = {{"agents", agents}, {"containers", containers}};
  result["fsync_ms"] = FsyncMilliseconds(dir);
  long rss_empty = RssKib(pid);

  // K agents: a few channels shared among them (as K hosts would have K connections; gRPC multiplexes).
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < std::min(agents, 8); ++i) channels.push_back(channel());
  std::vector<std::unique_ptr<SimulatedAgent>> simulated;
  absl::Mutex latency_mutex;
  std::vector<double> watch_latencies_ms;
  std::atomic<int64_t> statuses = 0;
  auto on_volume = [&](const v1::Volume& volume, absl::Time arrived) {
    auto sent = volume.metadata().annotations().find("bench.opctl.io/sent");
    int64_t nanos = 0;
    if (sent == volume.metadata().annotations().end() || !absl::SimpleAtoi(sent->second, &nanos)) return;
    absl::MutexLock lock(&latency_mutex);
    watch_latencies_ms.push_back(absl::ToDoubleMilliseconds(arrived - absl::FromUnixNanos(nanos)));
  };
  for (int i = 0; i < agents; ++i) {
    simulated.push_back(std::make_unique<SimulatedAgent>(channels[i % channels.size()], absl::StrCat("sim-", i)));
    simulated.back()->Heartbeat();
    simulated.back()->StartWatch(on_volume, &statuses);
  }
  std::atomic<bool> stop = false;
  std::thread heartbeats([&] {
    while (!stop) {
      absl::Time round = absl::Now();
      for (auto& agent : simulated) agent->Heartbeat();
      absl::SleepFor(absl::Milliseconds(500) - (absl::Now() - round));
    }
  });
  absl::SleepFor(absl::Seconds(2));  // every node Ready and every watch open
  long rss_streams = RssKib(pid);
  result["memory_per_stream_kib"] = static_cast<double>(rss_streams - rss_empty) / agents;

  // Services expanding into M Containers, applied in batches of 10 Services of 100 replicas.
  int services = std::max(1, containers / 100);
  absl::Time apply_start = absl::Now();
  for (int first = 0; first < services; first += 10) {
    v1::ApplyRequest request;
    for (int i = first; i < std::min(services, first + 10); ++i) {
      *request.add_objects() = SmallService(absl::StrCat("svc-", i), std::min(100, containers));
    }
    grpc::ClientContext context;
    v1::ApplyResponse response;
    if (grpc::Status status = stub->Apply(&context, request, &response); !status.ok()) {
      std::cerr << "apply: " << status.error_message() << "\n";
      return 1;
    }
  }
  int64_t expected = static_cast<int64_t>(services) * std::min(100, containers);
  absl::Time deadline = absl::Now() + absl::Minutes(10);
  while (statuses < expected && absl::Now() < deadline) absl::SleepFor(absl::Milliseconds(20));
  double converge_s = absl::ToDoubleSeconds(absl::Now() - apply_start);
  result["containers_running"] = statuses.load();
  // Each Container costs two durable writes (created and bound by the controller, then its status).
  result["containers_per_second"] = statuses / converge_s;
  result["converge_s"] = converge_s;
  long rss_objects = RssKib(pid);
  result["memory_per_object_kib"] = static_cast<double>(rss_objects - rss_streams) / (expected + services);

  std::vector<double> apply_ms = ApplyLatencies(*stub, "lat-");
  if (scraper) scraper->Report(result);
  scraper.reset();
  result["metrics"] = metrics;
  result["apply_p50_ms"] = Percentile(apply_ms, 0.5);
  result["apply_p99_ms"] = Percentile(apply_ms, 0.99);
  // Every agent watches Volumes: each acknowledged write above reached K watchers.
  absl::SleepFor(absl::Seconds(1));
  {
    absl::MutexLock lock(&latency_mutex);
    result["watch_p50_ms"] = Percentile(watch_latencies_ms, 0.5);
    result["watch_p99_ms"] = Percentile(watch_latencies_ms, 0.99);
    result["watch_deliveries"] = watch_latencies_ms.size();
  }
  EventFlood flood(channels[0], agents);
  std::vector<double> flooded_ms = ApplyLatencies(*stub, "flood-");
  result["events_reported"] = flood.Stop();
  result["apply_flood_p50_ms"] = Percentile(flooded_ms, 0.5);
  result["apply_flood_p99_ms"] = Percentile(flooded_ms, 0.99);

  stop = true;
  heartbeats.join();
  simulated.clear();
  (*controller)->Signal(SIGTERM);
  (*controller)->Wait();
  absl::Duration restart;
  auto restarted = StartController(dir, port, &restart, flags);
  if (!restarted.ok()) {
    std::cerr << restarted.status() << "\n";
    return 1;
  }
  result["restart_s"] = absl::ToDoubleSeconds(restart);
  (*restarted)->Signal(SIGTERM);
  (*restarted)->Wait();
  std::cout << result.dump() << "\n";
  return 0;
}

}  // namespace opctl::bench
