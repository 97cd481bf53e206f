#include "controller/reconcilers/desired_containers.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/api_names.h"
#include "common/object.h"

namespace opctl::controller {
namespace {

void SetOwnerAndLabels(const v1::Service& service, v1::ObjectMeta* meta) {
  meta->set_stack(service.metadata().stack());
  *meta->mutable_labels() = service.metadata().labels();
  (*meta->mutable_labels())[kServiceLabel] = service.metadata().name();
  v1::OwnerReference* owner = meta->add_owner_references();
  owner->set_kind(kKindService);
  owner->set_name(service.metadata().name());
  owner->set_uid(service.metadata().uid());
  owner->set_controller(true);
}

// The replica's static address on the Service's network and on each additional one.
void AttachNetworks(const v1::ServiceSpec& spec, int ordinal, v1::ContainerSpec* container) {
  if (!spec.network().name().empty()) {
    container->mutable_network()->set_name(spec.network().name());
    if (ordinal < spec.network().addresses_size()) {
      container->mutable_network()->set_ipv4_address(spec.network().addresses(ordinal));
    }
  }
  for (const v1::ServiceNetwork& extra : spec.additional_networks()) {
    v1::ContainerNetwork* attached = container->add_additional_networks();
    attached->set_name(extra.name());
    if (ordinal < extra.addresses_size()) attached->set_ipv4_address(extra.addresses(ordinal));
  }
}

}  // namespace

std::string TemplateVolumeName(const std::string& template_name, const std::string& service, int ordinal) {
  return absl::StrCat(template_name, "-", service, "-", ordinal);
}

std::vector<v1::Container> DesiredContainers(const v1::Service& service,
                                             const std::vector<std::string>& host_path_roots) {
  std::vector<v1::Container> containers;
  const v1::ServiceSpec& spec = service.spec();
  const auto& mounts = spec.template_().volume_mounts();
  bool mounts_host_paths =
      std::any_of(mounts.begin(), mounts.end(), [](const v1::VolumeMount& m) { return !m.host_path().empty(); });
  for (int ordinal = 0; ordinal < spec.replicas(); ++ordinal) {
    v1::Container container;
    container.set_api_version(std::string(kApiVersion));
    container.set_kind(kKindContainer);
    container.mutable_metadata()->set_name(absl::StrCat(service.metadata().name(), "-", ordinal));
    SetOwnerAndLabels(service, container.mutable_metadata());
    v1::ContainerSpec* container_spec = container.mutable_spec();
    container_spec->set_service(service.metadata().name());
    container_spec->set_ordinal(ordinal);
    *container_spec->mutable_node_selector() = spec.node_selector();
    container_spec->set_on_node_loss(spec.on_node_loss());
    if (spec.has_placement()) *container_spec->mutable_placement() = spec.placement();
    *container_spec->mutable_template_() = spec.template_();
    if (mounts_host_paths)
      *container_spec->mutable_host_path_roots() = {host_path_roots.begin(), host_path_roots.end()};
    AttachNetworks(spec, ordinal, container_spec);
    for (const v1::VolumeTemplate& volume : spec.volume_templates()) {
      v1::VolumeMount* mount = container_spec->mutable_template_()->add_volume_mounts();
      mount->set_name(TemplateVolumeName(volume.name(), service.metadata().name(), ordinal));
      mount->set_mount_path(volume.mount_path());
    }
    containers.push_back(std::move(container));
  }
  return containers;
}

}  // namespace opctl::controller
