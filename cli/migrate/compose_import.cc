#include "cli/migrate/compose_import.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/migrate/compose_extensions.h"
#include "cli/migrate/compose_fields.h"
#include "cli/migrate/compose_service.h"
#include "cli/migrate/compose_source.h"
#include "common/object.h"
#include "common/validation.h"

namespace opctl::cli {
namespace {

using compose::Located;
using compose::Reporter;

// compose's name: is the Docker object's name; opctl's objects are named by their key.
void WarnOfDockerName(const Located& at, const std::string& subject, const std::string& key, Reporter& report) {
  auto name = at.Child("name");
  if (name && name->node.Scalar() != key) {
    report.Warn(*name, subject + " name",
                absl::StrCat("Docker's name \"", name->node.Scalar(), "\" left out: opctl names it ", key));
  }
}

void ConvertNetworks(const std::map<std::string, Located>& networks, const std::string& stack, Reporter& report,
                     ConvertedCompose& out) {
  for (const auto& [name, at] : networks) {
    v1::Object object;
    v1::Network& network = *object.mutable_network();
    network.mutable_metadata()->set_name(name);
    network.mutable_metadata()->set_stack(stack);
    std::string subject = "network/" + name;
    if (auto external = at.Child("external"); external && external->node.Scalar() != "false") {
      report.Warn(*external, subject + " external",
                  "not made here: the manifests refer to a Network of that name, which must exist (another stack's)");
      continue;
    }
    WarnOfDockerName(at, subject, name, report);
    if (auto driver = at.Child("driver"); driver && driver->node.Scalar() != "bridge") {
      report.Warn(
          *driver, subject + " driver",
          absl::StrCat(driver->node.Scalar(), " is not converted: opctl Networks are bridges that span their hosts"));
    }
    if (auto internal = at.Child("internal")) network.mutable_spec()->set_internal(internal->node.Scalar() == "true");
    if (auto options = at.Child("driver_opts")) {
      if (auto mtu = options->Child("com.docker.network.driver.mtu")) {
        network.mutable_spec()->set_mtu(compose::IntOf(*mtu, subject + " driver_opts", report).value_or(0));
      }
    }
    auto config = at.Child("ipam") ? at.Child("ipam")->Child("config") : std::nullopt;
    if (config && config->node.IsSequence() && config->node.size() > 0) {
      Located first{config->node[0], at.file};
      if (auto subnet = first.Child("subnet")) network.mutable_spec()->set_subnet(subnet->node.Scalar());
      if (auto gateway = first.Child("gateway")) network.mutable_spec()->set_gateway(gateway->node.Scalar());
      if (config->node.size() > 1) report.Warn(*config, subject + " ipam.config", "only the first subnet is converted");
    }
    FillTypeMeta(&object);
    out.objects.push_back(std::move(object));
  }
}

void ConvertVolumes(const std::map<std::string, Located>& volumes, const std::string& stack, Reporter& report,
                    ConvertedCompose& out) {
  for (const auto& [name, at] : volumes) {
    if (compose::IsTemplateVolume(at)) continue;  // a Service's per-replica volume: the Service makes it
    v1::Object object;
    v1::Volume& volume = *object.mutable_volume();
    volume.mutable_metadata()->set_name(name);
    volume.mutable_metadata()->set_stack(stack);
    if (auto external = at.Child("external"); external && external->node.Scalar() != "false") {
      volume.mutable_spec()->set_adopt_existing(true);  // it exists already: take it, data and all
    }
    if (auto driver = at.Child("driver"); driver && driver->node.Scalar() != "local") {
      report.Warn(*driver, "volume/" + name + " driver", "left out: opctl Volumes are local");
    }
    WarnOfDockerName(at, "volume/" + name, name, report);
    compose::ApplyVolumeExtension(at, volume, report);
    FillTypeMeta(&object);
    out.objects.push_back(std::move(object));
  }
}

// The objects' own checks, reported at the compose value the refused field came from (or, when no
// one value did, at the service in its last file).
void ValidateConverted(ConvertedCompose& out, const std::map<std::string, std::vector<Located>>& origins,
                       Reporter& report) {
  for (size_t i = 0; i < out.objects.size(); ++i) {
    std::string name = MetaOf(out.objects[i]).name();
    auto origin = origins.find(absl::StrCat(KindOf(out.objects[i]), "/", name));
    for (const FieldError& error : ValidateObject(out.objects[i], static_cast<int>(i))) {
      if (origin != origins.end()) {
        Located at = compose::ComposeValueOf(origin->second, error.field).value_or(origin->second.back());
        report.Error(at, DisplayName(out.objects[i]), absl::StrCat(error.field, ": ", error.message));
      } else {
        report.Error(error.ToString());
      }
    }
  }
}

struct Project {
  std::vector<YAML::Node> roots;
  std::map<std::string, Located> networks, volumes;
  std::vector<std::pair<std::string, std::vector<Located>>> services;  // in first-seen order
};

// Reads each file's top level into the merged project; false when a file is not compose.
bool ReadProject(const std::vector<ComposeFile>& files, const std::vector<std::string>& texts, Project& project,
                 Reporter& report) {
  for (size_t f = 0; f < files.size(); ++f) {
    YAML::Node root;
    try {
      root = YAML::Load(texts[f]);
    } catch (const YAML::Exception& error) {
      report.Error(absl::StrCat(files[f].path, ":", error.mark.line + 1, ": invalid YAML: ", error.msg));
      return false;
    }
    project.roots.push_back(root);
    Located top{root, &files[f].path};
    if (!root.IsMap() || !root["services"] || !root["services"].IsMap()) {
      report.Error(absl::StrCat(files[f].path,
                                ":1: not a compose file: it needs a services: map (version 1 files, "
                                "with services at the top, are not converted)"));
      return false;
    }
    if (auto version = top.Child("version");
        version && !absl::StartsWith(version->node.Scalar(), "2") && !absl::StartsWith(version->node.Scalar(), "3")) {
      report.Error(*version, "version",
                   absl::StrCat("\"", version->node.Scalar(), "\" is not a compose file version (2.x or 3.x)"));
    }
    for (const char* section : {"networks", "volumes"}) {
      auto found = top.Child(section);
      if (!found || found->node.IsNull()) continue;
      if (!found->node.IsMap()) {
        report.Error(*found, section, "must be a map");
        continue;
      }
      auto& into = std::string(section) == "networks" ? project.networks : project.volumes;
      for (const auto& entry : found->node) {
        into[entry.first.Scalar()] = Located{entry.second.IsNull() ? entry.first : entry.second, top.file};
      }
    }
    for (const auto& entry : root["services"]) {
      std::string name = entry.first.Scalar();
      auto known = std::find_if(project.services.begin(), project.services.end(),
                                [&](const auto& s) { return s.first == name; });
      if (known == project.services.end()) {
        project.services.push_back({name, {}});
        known = std::prev(project.services.end());
      }
      known->second.push_back(Located{entry.second, top.file});
    }
  }
  return true;
}

// Each service in file order; the compose services opctl export wrote for the replicas of one
// Service fold back into it, where its first replica was.
void ConvertServices(const Project& project, const compose::ServiceContext& context, const std::string& stack,
                     Reporter& report, ConvertedCompose& out) {
  std::map<std::string, std::vector<Located>> origins;
  std::map<std::string, std::vector<compose::ReplicaPart>> parts;
  std::vector<std::string> order;  // Service names, folded ones once
  std::map<std::string, v1::Service> services;
  for (const auto& [name, layers] : project.services) {
    v1::Service service = compose::ConvertService({name, layers}, context, report);
    auto extension = compose::ExtensionOf(layers);
    std::optional<compose::ReplicaPart> part =
        extension ? compose::ReplicaPartOf(*extension, service, report) : std::nullopt;
    std::string key = part ? part->service : name;
    if (!origins.count("Service/" + key)) {
      order.push_back(key);
      origins["Service/" + key] = layers;
    }
    if (part)
      parts[key].push_back(std::move(*part));
    else
      services[key] = std::move(service);
  }
  for (auto& [name, replicas] : parts) services[name] = compose::FoldReplicas(std::move(replicas), report);
  for (const std::string& name : order) {
    v1::Object object;
    *object.mutable_service() = std::move(services[name]);
    object.mutable_service()->mutable_metadata()->set_stack(stack);
    FillTypeMeta(&object);
    out.objects.push_back(std::move(object));
  }
  ValidateConverted(out, origins, report);
}

}  // namespace

ConvertedCompose ConvertCompose(const std::vector<ComposeFile>& files, const ComposeOptions& options) {
  ConvertedCompose out;
  Reporter report(out);
  if (files.empty()) {
    report.Error("convert needs at least one compose file");
    return out;
  }
  std::vector<std::string> texts;
  for (const ComposeFile& file : files) texts.push_back(compose::Interpolate(file.text, file, options, report));
  Project project;
  if (!ReadProject(files, texts, project, report)) return out;
  compose::ServiceContext context;
  context.project = compose::ProjectName(files.front().path);
  std::string stack = options.stack.empty() ? context.project : options.stack;
  // What opctl export wrote the stack's name in.
  if (auto x = Located{project.roots.front(), &files.front().path}.Child("x-opctl"); x && options.stack.empty()) {
    if (auto named = x->Child("stack")) stack = named->node.Scalar();
  }
  for (const auto& [name, at] : project.networks) context.networks.insert(name);
  for (const auto& [name, at] : project.volumes) context.volumes.insert(name);

  // Services naming no network share compose's "default" one.
  bool needs_default = false;
  for (const auto& [name, layers] : project.services) {
    bool attached = false;
    for (const Located& layer : layers) attached |= layer.Child("networks") || layer.Child("network_mode");
    needs_default |= !attached;
  }
  std::string default_network = stack + "-default";
  context.default_network = default_network;
  if (needs_default && !project.networks.count("default")) {
    project.networks["default"] = Located{YAML::Node(YAML::NodeType::Map), &files.front().path};
  }
  std::map<std::string, Located> networks;
  for (auto& [name, at] : project.networks) networks[name == "default" ? default_network : name] = at;
  ConvertNetworks(networks, stack, report, out);
  ConvertVolumes(project.volumes, stack, report, out);
  ConvertServices(project, context, stack, report, out);
  if (needs_default) {
    report.Warn(absl::StrCat(files.front().path, ":1: network/", default_network,
                             ": made for the services that name no network, as compose's default one; compose's "
                             "service-name DNS is not there (containers are NAME-ORDINAL): give fixed addresses"));
  }
  if (report.failed()) out.objects.clear();
  return out;
}

}  // namespace opctl::cli
