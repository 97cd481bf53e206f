// opctl-bench: the measuring half of bench/run.sh. Each subcommand measures one thing against a
// dockerd socket through the project's Docker client, looking at the Engine API whenever Docker
// reports a container event, and prints one JSON line; `report` turns the collected lines into the
// table in BENCHMARKS.md.
//
//   converge     --socket S --label K=V --count N [--recreated NAME] -- CMD...
//                run CMD, then wait until N containers carrying K=V run, then until they are healthy
//                (with --recreated: until container NAME is a new one, running, then healthy)
//   raw-converge --socket S -f MANIFEST [--scale SVC=N]      create the manifest's networks, volumes and
//                                                            containers directly, 16 containers at a time
//   raw-clean    --socket S                                  remove what raw-converge made
//   heal         --socket S --container NAME --how rm|kill --trials N [--give-up 10s]
//   plain-run    --socket S --image I --trials N             create+start of one container, for comparison
//   footprint    --pid P --seconds N                         RSS and CPU of a process over N seconds
//   control-plane --agents K --containers M [--metrics off]  the controller under K simulated agents
//   report       RESULTS.jsonl                               medians, spreads and ratios as a Markdown table
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "agent/container_spec.h"
#include "agent/curl_docker_client.h"
#include "bench/docker_changes.h"
#include "cli/manifest.h"
#include "common/quantity.h"
#include "controller/reconcilers/desired_containers.h"
#include "tests/support/process.h"

namespace opctl::bench {
namespace {

using agent::CurlDockerClient;
using agent::DockerContainer;
using Json = nlohmann::json;

constexpr char kRawNode[] = "raw-bench";

struct Options {
  std::map<std::string, std::string> flags;
  std::vector<std::string> command;  // after "--"
  std::string Get(const std::string& name, const std::string& fallback = "") const {
    auto found = flags.find(name);
    return found == flags.end() ? fallback : found->second;
  }
  int Int(const std::string& name, int fallback) const {
    int value = fallback;
    return absl::SimpleAtoi(Get(name), &value) ? value : fallback;
  }
};

Options ParseOptions(int argc, char** argv) {
  Options options;
  for (int i = 2; i < argc; ++i) {
    std::string word = argv[i];
    if (word == "--") {
      options.command.assign(argv + i + 1, argv + argc);
      break;
    }
    if (word.rfind("--", 0) == 0 && i + 1 < argc) {
      options.flags[word.substr(2)] = argv[++i];
    } else if (word == "-f" && i + 1 < argc) {
      options.flags["manifest"] = argv[++i];
    } else {
      options.flags["positional"] = word;
    }
  }
  return options;
}

double Seconds(absl::Duration duration) { return absl::ToDoubleSeconds(duration); }

// How long a waiter goes without an event before it looks anyway (an event may have come before the
// event stream was open).
constexpr absl::Duration kLookAnyway = absl::Milliseconds(250);

// Waits until `count` containers matching `labels` run and, separately, until they are healthy
// (a container without a health check counts as healthy once running). Returns {running, healthy}
// seconds since `start`, or -1 on timeout.
std::pair<double, double> WaitForContainers(CurlDockerClient& docker, DockerChanges& changes,
                                            const std::map<std::string, std::string>& labels, int count,
                                            absl::Time start, absl::Duration timeout) {
  double running_at = -1, healthy_at = -1;
  while (absl::Now() - start < timeout) {
    absl::StatusOr<std::vector<DockerContainer>> containers = docker.ListContainers(labels);
    if (containers.ok()) {
      int running = 0, healthy = 0;
      for (const DockerContainer& container : *containers) {
        if (container.state != "running") continue;
        ++running;
        if (container.health.empty() || container.health == "healthy") ++healthy;
      }
      if (running >= count && running_at < 0) running_at = Seconds(absl::Now() - start);
      if (healthy >= count) {
        healthy_at = Seconds(absl::Now() - start);
        break;
      }
    }
    changes.WaitForChange(kLookAnyway);
  }
  return {running_at, healthy_at};
}

std::map<std::string, std::string> LabelOf(const std::string& pair) {
  std::pair<std::string, std::string> split = absl::StrSplit(pair, absl::MaxSplits('=', 1));
  return {{split.first, split.second}};
}

// Waits until a container called `name` other than `old_id` runs, then until it is healthy.
std::pair<double, double> WaitForReplacement(CurlDockerClient& docker, DockerChanges& changes, const std::string& name,
                                             const std::string& old_id, absl::Time start, absl::Duration timeout) {
  double running_at = -1;
  while (absl::Now() - start < timeout) {
    absl::StatusOr<DockerContainer> now = docker.InspectContainer(name);
    if (now.ok() && now->id != old_id && now->state == "running") {
      if (running_at < 0) running_at = Seconds(absl::Now() - start);
      if (now->health.empty() || now->health == "healthy") return {running_at, Seconds(absl::Now() - start)};
    }
    changes.WaitForChange(kLookAnyway);
  }
  return {running_at, -1};
}

int Converge(const Options& options) {
  CurlDockerClient docker(options.Get("socket", "/var/run/docker.sock"));
  std::string recreated = options.Get("recreated");
  std::string old_id = recreated.empty() ? "" : docker.InspectContainer(recreated).value_or(DockerContainer{}).id;
  std::map<std::string, std::string> labels = LabelOf(options.Get("label"));
  DockerChanges changes(options.Get("socket", "/var/run/docker.sock"), labels);
  absl::Time start = absl::Now();
  testing::CommandResult ran = testing::RunCommand(options.command);
  double command_s = Seconds(absl::Now() - start);
  if (ran.exit_code != 0) {
    std::cerr << "opctl-bench: command failed (" << ran.exit_code << "): " << ran.out << ran.err << "\n";
    return 1;
  }
  absl::Duration timeout = absl::Seconds(options.Int("timeout", 300));
  auto [running, healthy] = recreated.empty()
                                ? WaitForContainers(docker, changes, labels, options.Int("count", 1), start, timeout)
                                : WaitForReplacement(docker, changes, recreated, old_id, start, timeout);
  std::cout << Json{{"command_s", command_s}, {"running_s", running}, {"healthy_s", healthy}}.dump() << "\n";
  return healthy < 0 ? 1 : 0;
}

int RawConverge(const Options& options) {
  CurlDockerClient docker(options.Get("socket", "/var/run/docker.sock"));
  cli::ParsedManifests parsed = cli::LoadManifests({options.Get("manifest")});
  if (!parsed.errors.empty()) {
    std::cerr << parsed.errors.front() << "\n";
    return 2;
  }
  std::map<std::string, int> scale;
  if (!options.Get("scale").empty()) {
    std::pair<std::string, std::string> split = absl::StrSplit(options.Get("scale"), '=');
    absl::SimpleAtoi(split.second, &scale[split.first]);
  }
  DockerChanges changes(options.Get("socket", "/var/run/docker.sock"), agent::ManagedLabels(kRawNode));
  absl::Time start = absl::Now();
  std::vector<v1::Container> containers;
  for (cli::ManifestDocument& document : parsed.documents) {
    v1::Object& object = document.object;
    if (object.has_network()) {
      const v1::Network& network = object.network();
      agent::DockerNetworkSpec spec{network.metadata().name(), network.spec().subnet(), network.spec().gateway(),
                                    network.spec().internal(),
                                    agent::ObjectLabels(kRawNode, "Network", network.metadata())};
      if (absl::StatusOr<std::string> made = docker.CreateNetwork(spec); !made.ok()) {
        std::cerr << made.status() << "\n";
        return 1;
      }
    } else if (object.has_volume()) {
      docker
          .CreateVolume(object.volume().metadata().name(),
                        agent::ObjectLabels(kRawNode, "Volume", object.volume().metadata()))
          .IgnoreError();
    } else if (object.has_service()) {
      v1::Service service = object.service();
      if (scale.count(service.metadata().name()))
        service.mutable_spec()->set_replicas(scale[service.metadata().name()]);
      for (v1::Container& container : controller::DesiredContainers(service)) {
        container.mutable_spec()->set_node_name(kRawNode);
        containers.push_back(std::move(container));
      }
    }
  }
  // Per-replica volumes, then every container at once, as parallel as Docker allows.
  for (const v1::Container& container : containers) {
    for (const v1::VolumeMount& mount : container.spec().template_().volume_mounts()) {
      docker.CreateVolume(mount.name(), agent::ManagedLabels(kRawNode)).IgnoreError();
    }
  }
  // Every container at once would only queue inside dockerd past the client's timeout (100 parallel
  // creates do here); 16 at a time keeps dockerd busy without that.
  std::vector<std::thread> threads;
  std::atomic<int> failures = 0;
  std::atomic<size_t> next = 0;
  for (size_t worker = 0; worker < std::min<size_t>(16, containers.size()); ++worker) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < containers.size(); i = next++) {
        const v1::Container& container = containers[i];
        absl::StatusOr<agent::DockerContainerSpec> spec = agent::ToDockerSpec(container, kRawNode);
        absl::StatusOr<std::string> id =
            spec.ok() ? docker.CreateContainer(container.metadata().name(), *spec) : spec.status();
        if (!id.ok() || !docker.StartContainer(*id).ok()) {
          std::cerr << container.metadata().name() << ": " << id.status() << "\n";
          ++failures;
        }
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  double command_s = Seconds(absl::Now() - start);
  if (failures > 0) return 1;
  auto [running, healthy] = WaitForContainers(docker, changes, agent::ManagedLabels(kRawNode),
                                              static_cast<int>(containers.size()), start, absl::Seconds(300));
  std::cout << Json{{"command_s", command_s}, {"running_s", running}, {"healthy_s", healthy}}.dump() << "\n";
  return healthy < 0 ? 1 : 0;
}

int RawClean(const Options& options) {
  CurlDockerClient docker(options.Get("socket", "/var/run/docker.sock"));
  std::map<std::string, std::string> labels = agent::ManagedLabels(kRawNode);
  std::vector<std::thread> threads;
  for (const DockerContainer& container : docker.ListContainers(labels).value_or(std::vector<DockerContainer>{})) {
    threads.emplace_back([&docker, id = container.id] { docker.RemoveContainer(id).IgnoreError(); });
  }
  for (std::thread& thread : threads) thread.join();
  for (const auto& volume : docker.ListVolumes(labels).value_or(std::vector<agent::DockerVolume>{})) {
    docker.RemoveVolume(volume.name).IgnoreError();
  }
  for (const auto& network : docker.ListNetworks(labels).value_or(std::vector<agent::DockerNetwork>{})) {
    docker.RemoveNetwork(network.id).IgnoreError();
  }
  return 0;
}

// Trials of: break the container (rm -f or kill), then time until it runs again.
int Heal(const Options& options) {
  std::string socket = options.Get("socket", "/var/run/docker.sock");
  CurlDockerClient docker(socket);
  std::string name = options.Get("container");
  std::string how = options.Get("how", "rm");
  absl::StatusOr<absl::Duration> give_up = ParseDuration(options.Get("give-up", "10s"));
  DockerChanges changes(socket, {});  // only the benchmarks' containers live on this dockerd
  Json samples = Json::array();
  for (int trial = 0; trial < options.Int("trials", 20); ++trial) {
    // Start each trial from a healthy, running container.
    absl::Time ready_deadline = absl::Now() + absl::Seconds(60);
    absl::StatusOr<DockerContainer> before = docker.InspectContainer(name);
    while ((!before.ok() || before->state != "running") && absl::Now() < ready_deadline) {
      changes.WaitForChange(kLookAnyway);
      before = docker.InspectContainer(name);
    }
    if (!before.ok() || before->state != "running") {
      std::cerr << name << " is not running before trial " << trial << "\n";
      return 1;
    }
    if (how == "rm") {
      if (!docker.RemoveContainer(before->id).ok()) return 1;
    } else if (testing::RunCommand({"docker", "-H", "unix://" + socket, "kill", name}).exit_code != 0) {
      return 1;
    }
    absl::Time broken = absl::Now();
    double healed = -1;
    while (absl::Now() - broken < *give_up) {
      absl::StatusOr<DockerContainer> now = docker.InspectContainer(name);
      if (now.ok() && now->state == "running" && (now->id != before->id || now->started_at != before->started_at)) {
        healed = Seconds(absl::Now() - broken);
        break;
      }
      changes.WaitForChange(std::min(kLookAnyway, *give_up - (absl::Now() - broken)));
    }
    samples.push_back(healed);
    if (healed < 0) break;  // does not heal: one trial says so
  }
  std::cout << Json{{"samples_s", samples}}.dump() << "\n";
  return 0;
}

int PlainRun(const Options& options) {
  CurlDockerClient docker(options.Get("socket", "/var/run/docker.sock"));
  agent::DockerContainerSpec spec;
  spec.image = options.Get("image", "opctl/busybox:test");
  spec.cmd = {"sleep", "infinity"};
  spec.labels = agent::ManagedLabels(kRawNode);
  Json samples = Json::array();
  for (int trial = 0; trial < options.Int("trials", 20); ++trial) {
    std::string name = absl::StrCat("opctl-bench-plain-", trial);
    absl::Time start = absl::Now();
    absl::StatusOr<std::string> id = docker.CreateContainer(name, spec);
    if (!id.ok() || !docker.StartContainer(*id).ok()) return 1;
    while (docker.InspectContainer(*id).value_or(DockerContainer{}).state != "running") {
      absl::SleepFor(absl::Milliseconds(5));
    }
    samples.push_back(Seconds(absl::Now() - start));
    docker.RemoveContainer(*id).IgnoreError();
  }
  std::cout << Json{{"samples_s", samples}}.dump() << "\n";
  return 0;
}

// RSS (kB) and CPU ticks of a process, from /proc.
std::pair<long, long> ProcessUsage(const std::string& pid) {
  std::ifstream status("/proc/" + pid + "/status");
  long rss = 0;
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("VmRSS:", 0) == 0) rss = std::stol(line.substr(6));
  }
  std::ifstream stat("/proc/" + pid + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  std::vector<std::string> fields = absl::StrSplit(text.substr(text.rfind(')') + 2), ' ');
  long ticks = fields.size() > 12 ? std::stol(fields[11]) + std::stol(fields[12]) : 0;  // utime + stime
  return {rss, ticks};
}

int Footprint(const Options& options) {
  std::string pid = options.Get("pid");
  int seconds = options.Int("seconds", 60);
  auto [rss_start, ticks_start] = ProcessUsage(pid);
  long rss_max = rss_start, rss_sum = 0, samples = 0;
  absl::Time start = absl::Now();
  while (absl::Now() - start < absl::Seconds(seconds)) {
    absl::SleepFor(absl::Seconds(1));
    long rss = ProcessUsage(pid).first;
    rss_max = std::max(rss_max, rss);
    rss_sum += rss;
    ++samples;
  }
  long ticks = ProcessUsage(pid).second - ticks_start;
  double cpu_percent = 100.0 * ticks / sysconf(_SC_CLK_TCK) / Seconds(absl::Now() - start);
  std::cout << Json{{"rss_mib_avg", samples ? rss_sum / samples / 1024.0 : 0},
                    {"rss_mib_max", rss_max / 1024.0},
                    {"cpu_percent", cpu_percent},
                    {"seconds", seconds}}
                   .dump()
            << "\n";
  return 0;
}

}  // namespace

int Report(const std::string& path);  // report.cc
int ControlPlane(int agents, int containers, const std::vector<std::string>& store_flags,
                 bool metrics);  // control_plane.cc
std::vector<std::string> EtcdStoreFlags(const std::string& endpoints, const std::string& certs,
                                        const std::string& prefix);
int Failover(const std::string& endpoints, const std::string& certs, int trials);  // failover.cc

}  // namespace opctl::bench

int main(int argc, char** argv) {
  using namespace opctl::bench;
  if (argc < 2) {
    std::cerr << "usage: opctl-bench converge|raw-converge|raw-clean|heal|plain-run|footprint|control-plane|failover|"
                 "report ...\n";
    return 2;
  }
  std::string command = argv[1];
  if (command == "report") return argc > 2 ? Report(argv[2]) : 2;
  Options options = ParseOptions(argc, argv);
  // These leave a thread reading Docker's events behind (see DockerChanges): they end the process.
  if (command == "converge") EndProcess(Converge(options));
  if (command == "raw-converge") EndProcess(RawConverge(options));
  if (command == "heal") EndProcess(Heal(options));
  if (command == "raw-clean") return RawClean(options);
  if (command == "plain-run") return PlainRun(options);
  if (command == "footprint") return Footprint(options);
  if (command == "control-plane") {
    // --etcd-endpoints URLS --etcd-certs DIR: the controller on etcd, under a prefix of its own.
    std::vector<std::string> store_flags;
    if (!options.Get("etcd-endpoints").empty()) {
      store_flags = EtcdStoreFlags(options.Get("etcd-endpoints"), options.Get("etcd-certs"),
                                   absl::StrCat("/bench-", absl::ToUnixNanos(absl::Now())));
    }
    // --metrics off: the controller serves no /metrics (the default scrapes it every second).
    return ControlPlane(options.Int("agents", 10), options.Int("containers", 1000), store_flags,
                        options.Get("metrics") != "off");
  }
  if (command == "failover") {
    return Failover(options.Get("etcd-endpoints"), options.Get("etcd-certs"), options.Int("trials", 10));
  }
  std::cerr << "opctl-bench: unknown command " << command << "\n";
  return 2;
}
