#include "controller/state_metrics.h"

#include <map>
#include <set>

#include "absl/time/time.h"
#include "common/api_names.h"
#include "common/conditions.h"
#include "common/metrics_endpoint.h"
#include "common/quantity.h"

namespace opctl::controller {
namespace {

// A phase the agents report, or "Unknown": the label's values stay the documented few.
std::string BoundedPhase(const std::string& phase) {
  static const std::set<std::string> kPhases = {kPhasePending, kPhaseCreating, kPhaseRunning, kPhaseExited,
                                                kPhaseFailed,  kPhaseUnknown,  kPhaseRemoved};
  return kPhases.count(phase) ? phase : std::string(kPhaseUnknown);
}

std::vector<std::pair<std::string, double>> Counts(const std::map<std::string, double>& counts) {
  return {counts.begin(), counts.end()};
}

prometheus::MetricFamily ContainersByPhase(const Registry& registry) {
  std::map<std::string, double> phases;
  for (const char* phase : {kPhasePending, kPhaseCreating, kPhaseRunning, kPhaseExited, kPhaseFailed})
    phases[phase] = 0;  // present at zero, so an alert on one does not see "no data"
  for (const v1::Object& object : registry.ListKind("Container"))
    ++phases[BoundedPhase(object.container().status().phase())];
  return GaugeFamily("opctl_containers", "containers the controller holds, by the phase their node reports", "phase",
                     Counts(phases));
}

std::vector<prometheus::MetricFamily> Nodes(const Registry& registry) {
  std::map<std::string, double> ready = {{"True", 0}, {"False", 0}, {"Unknown", 0}};
  double cordoned = 0;
  for (const v1::Object& object : registry.ListKind("Node")) {
    ++ready[ConditionStatus(object.node().status().conditions(), "Ready")];
    cordoned += object.node().spec().unschedulable() ? 1 : 0;
  }
  return {GaugeFamily("opctl_nodes", "nodes by their Ready condition (True, False, Unknown)", "ready", Counts(ready)),
          GaugeFamily("opctl_nodes_cordoned", "nodes that take no new containers (opctl cordon, drain)", "",
                      {{"", cordoned}})};
}

// One sample per node, for alerts that name the node: 1 while it is Ready.
prometheus::MetricFamily NodeReady(const Registry& registry) {
  std::vector<std::pair<std::string, double>> ready;
  for (const v1::Object& object : registry.ListKind("Node"))
    ready.emplace_back(object.node().metadata().name(),
                       ConditionStatus(object.node().status().conditions(), "Ready") == "True" ? 1 : 0);
  return GaugeFamily("opctl_node_ready", "1 while the node is Ready, 0 otherwise", "node", ready);
}

// Two samples per Service, labelled with its stack and name (user-chosen, like Kubernetes' own).
std::vector<prometheus::MetricFamily> Services(const Registry& registry) {
  prometheus::MetricFamily desired =
      GaugeFamily("opctl_service_replicas", "replicas each Service asks for (spec.replicas)", "", {});
  prometheus::MetricFamily ready =
      GaugeFamily("opctl_service_replicas_ready", "replicas of each Service that run and are healthy", "", {});
  for (const v1::Object& object : registry.ListKind("Service")) {
    const v1::Service& service = object.service();
    std::vector<prometheus::ClientMetric::Label> labels = {{"stack", service.metadata().stack()},
                                                           {"service", service.metadata().name()}};
    prometheus::ClientMetric sample;
    sample.label = labels;
    sample.gauge.value = service.spec().replicas();
    desired.metric.push_back(sample);
    sample.gauge.value = service.status().ready_replicas();
    ready.metric.push_back(sample);
  }
  return {desired, ready};
}

double UnixSeconds(const std::string& rfc3339) {
  absl::Time time;
  return absl::ParseTime(absl::RFC3339_full, rfc3339, &time, nullptr) ? absl::ToUnixSeconds(time) : 0;
}

// For each Volume with a backup schedule: its interval, when its last backup succeeded (0: never) and
// whether the latest run failed, so that alerts can tell a failed backup from a late one.
std::vector<prometheus::MetricFamily> VolumeBackups(const Registry& registry) {
  prometheus::MetricFamily interval = GaugeFamily(
      "opctl_volume_backup_interval_seconds", "how often the Volume is to be backed up (spec.backup.schedule)", "", {});
  prometheus::MetricFamily last_success = GaugeFamily("opctl_volume_backup_last_success_timestamp_seconds",
                                                      "when the last successful backup started; 0: never", "", {});
  prometheus::MetricFamily failed =
      GaugeFamily("opctl_volume_backup_last_failed", "1 when the Volume's latest backup run failed", "", {});
  for (const v1::Object& object : registry.ListKind("Volume")) {
    const v1::Volume& volume = object.volume();
    absl::StatusOr<absl::Duration> every = ParseDuration(volume.spec().backup().schedule());
    if (volume.spec().backup().schedule().empty() || !every.ok()) continue;
    prometheus::ClientMetric sample;
    sample.label = {{"stack", volume.metadata().stack()}, {"volume", volume.metadata().name()}};
    sample.gauge.value = absl::ToDoubleSeconds(*every);
    interval.metric.push_back(sample);
    sample.gauge.value = UnixSeconds(volume.status().last_successful_backup().started_at());
    last_success.metric.push_back(sample);
    sample.gauge.value = volume.status().has_last_backup() && !volume.status().last_backup().error().empty() ? 1 : 0;
    failed.metric.push_back(sample);
  }
  return {interval, last_success, failed};
}

}  // namespace

std::vector<prometheus::MetricFamily> StateMetrics::Collect() const {
  std::vector<prometheus::MetricFamily> families = {ContainersByPhase(registry_), NodeReady(registry_)};
  for (auto* part : {&Nodes, &Services, &VolumeBackups}) {
    std::vector<prometheus::MetricFamily> more = (*part)(registry_);
    families.insert(families.end(), more.begin(), more.end());
  }
  families.push_back(GaugeFamily("opctl_store_revision", "the store's revision: every acknowledged change moves it", "",
                                 {{"", static_cast<double>(store_.Revision())}}));
  return families;
}

}  // namespace opctl::controller
