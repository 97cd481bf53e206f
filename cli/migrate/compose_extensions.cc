#include "cli/migrate/compose_extensions.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace opctl::cli::compose {
namespace {

constexpr char kExtension[] = "x-opctl";

void ReadMap(const Located& at, const std::string& subject, google::protobuf::Map<std::string, std::string>* into,
             Reporter& report) {
  if (!at.node.IsMap()) return report.Error(at, subject, "must be a map");
  for (const auto& entry : at.node) (*into)[entry.first.Scalar()] = entry.second.Scalar();
}

}  // namespace

std::optional<Located> ExtensionOf(const std::vector<Located>& layers) {
  for (auto layer = layers.rbegin(); layer != layers.rend(); ++layer) {
    if (auto found = layer->Child(kExtension)) return found;
  }
  return std::nullopt;
}

void ApplyServiceExtension(const Located& x, v1::Service& service, Reporter& report) {
  std::string subject = absl::StrCat("service/", service.metadata().name(), " ", kExtension);
  v1::ServiceSpec& spec = *service.mutable_spec();
  if (auto pre_stop = x.Child("preStop")) {
    for (const std::string& word : WordsOf(*pre_stop, subject + ".preStop", report, false))
      spec.mutable_template_()->mutable_lifecycle()->mutable_pre_stop()->mutable_exec()->add_command(word);
  }
  if (auto selector = x.Child("nodeSelector")) {
    ReadMap(*selector, subject + ".nodeSelector", spec.mutable_node_selector(), report);
  }
  if (auto placement = x.Child("placement")) {
    if (auto max = placement->Child("maxReplicasPerNode")) {
      spec.mutable_placement()->set_max_replicas_per_node(
          IntOf(*max, subject + ".placement.maxReplicasPerNode", report).value_or(0));
    }
    if (auto apart = placement->Child("apartFrom")) {
      for (const std::string& other : WordsOf(*apart, subject + ".placement.apartFrom", report, false))
        spec.mutable_placement()->add_apart_from(other);
    }
  }
  if (auto loss = x.Child("onNodeLoss")) spec.set_on_node_loss(loss->node.Scalar());
  if (auto rollout = x.Child("rollout")) {
    if (auto batch = rollout->Child("maxUnavailable")) {
      spec.mutable_rollout()->set_max_unavailable(
          IntOf(*batch, subject + ".rollout.maxUnavailable", report).value_or(0));
    }
    if (auto deadline = rollout->Child("progressDeadlineSeconds")) {
      spec.mutable_rollout()->set_progress_deadline_seconds(
          IntOf(*deadline, subject + ".rollout.progressDeadlineSeconds", report).value_or(0));
    }
    if (auto limit = rollout->Child("revisionHistoryLimit")) {
      spec.mutable_rollout()->set_revision_history_limit(
          IntOf(*limit, subject + ".rollout.revisionHistoryLimit", report).value_or(0));
    }
  }
  if (auto annotations = x.Child("annotations")) {
    ReadMap(*annotations, subject + ".annotations", service.mutable_metadata()->mutable_annotations(), report);
  }
  if (auto keys = x.Child("templateLabels")) {
    auto& labels = *service.mutable_metadata()->mutable_labels();
    for (const std::string& key : WordsOf(*keys, subject + ".templateLabels", report, false)) {
      auto found = labels.find(key);
      if (found == labels.end()) continue;
      (*spec.mutable_template_()->mutable_labels())[key] = found->second;
      labels.erase(found);
    }
  }
}

std::optional<ReplicaPart> ReplicaPartOf(const Located& x, const v1::Service& converted, Reporter& report) {
  auto service = x.Child("service");
  if (!service) return std::nullopt;
  std::string subject = absl::StrCat("service/", converted.metadata().name(), " ", kExtension);
  ReplicaPart part{service->node.Scalar(), 0, x, converted};
  if (auto ordinal = x.Child("ordinal"))
    part.ordinal = static_cast<int>(IntOf(*ordinal, subject + ".ordinal", report).value_or(0));
  return part;
}

v1::Service FoldReplicas(std::vector<ReplicaPart> parts, Reporter& report) {
  std::sort(parts.begin(), parts.end(), [](const auto& a, const auto& b) { return a.ordinal < b.ordinal; });
  const ReplicaPart& first = parts.front();
  v1::Service service = first.converted;
  std::string subject = absl::StrCat("service/", first.converted.metadata().name(), " ", kExtension);
  service.mutable_metadata()->set_name(first.service);
  v1::ServiceSpec& spec = *service.mutable_spec();
  spec.set_replicas(static_cast<int32_t>(parts.size()));
  if (auto replicas = first.extension.Child("replicas"))
    spec.set_replicas(static_cast<int32_t>(IntOf(*replicas, subject + ".replicas", report).value_or(parts.size())));
  if (auto addresses = first.extension.Child("addresses")) {
    std::vector<v1::ServiceNetwork*> networks = {spec.mutable_network()};
    for (auto& more : *spec.mutable_additional_networks()) networks.push_back(&more);
    for (v1::ServiceNetwork* network : networks) {
      auto listed = addresses->Child(network->name());
      if (!listed) continue;
      network->clear_addresses();
      for (const std::string& address : WordsOf(*listed, subject + ".addresses", report, false))
        network->add_addresses(address);
    }
  }
  auto templates = first.extension.Child("volumeTemplates");
  if (templates && templates->node.IsSequence()) {
    auto* mounts = spec.mutable_template_()->mutable_volume_mounts();
    for (const YAML::Node& entry : templates->node) {
      v1::VolumeTemplate* volume = spec.add_volume_templates();
      volume->set_name(entry["name"] ? entry["name"].Scalar() : "");
      volume->set_mount_path(entry["mountPath"] ? entry["mountPath"].Scalar() : "");
      // The replica's own volume of this template is the template's, not a mount of the Service.
      std::string own = absl::StrCat(volume->name(), "-", first.service, "-", first.ordinal);
      mounts->erase(std::remove_if(mounts->begin(), mounts->end(),
                                   [&](const v1::VolumeMount& mount) { return mount.name() == own; }),
                    mounts->end());
    }
  }
  return service;
}

bool IsTemplateVolume(const Located& volume) {
  auto x = volume.Child(kExtension);
  return x && x->Child("volumeTemplate");
}

void ApplyVolumeExtension(const Located& volume, v1::Volume& out, Reporter& report) {
  auto x = volume.Child(kExtension);
  auto backup = x ? x->Child("backup") : std::nullopt;
  if (!backup) return;
  std::string subject = absl::StrCat("volume/", out.metadata().name(), " ", kExtension, ".backup");
  if (auto schedule = backup->Child("schedule"))
    out.mutable_spec()->mutable_backup()->set_schedule(schedule->node.Scalar());
  if (auto keep = backup->Child("keep"))
    out.mutable_spec()->mutable_backup()->set_keep(
        static_cast<int32_t>(IntOf(*keep, subject + ".keep", report).value_or(0)));
}

}  // namespace opctl::cli::compose
