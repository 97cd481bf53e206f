#include "cli/migrate/export.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/migrate/compose_export.h"
#include "cli/migrate/kubernetes_export.h"
#include "common/api_names.h"

namespace opctl::cli {

absl::StatusOr<ExportTarget> ParseExportTarget(absl::string_view name) {
  if (name == "compose") return ExportTarget::kCompose;
  if (name == "swarm") return ExportTarget::kSwarm;
  if (name == "kubernetes" || name == "k8s") return ExportTarget::kKubernetes;
  return absl::InvalidArgumentError(
      absl::StrCat("--to ", name.empty() ? "is needed" : absl::StrCat("\"", name, "\" is not a target"),
                   ": compose, swarm or kubernetes"));
}

Exported ExportObjects(const std::vector<v1::Object>& given, ExportTarget target, const std::string& stack) {
  Exported out;
  // The command that last changed a Service (what opctl apply records) is history, not the stack.
  std::vector<v1::Object> objects = given;
  for (v1::Object& object : objects) {
    if (object.has_service())
      object.mutable_service()->mutable_metadata()->mutable_annotations()->erase(kChangeCauseAnnotation);
  }
  std::map<std::string, exporting::Stack> stacks = exporting::GroupByStack(objects);
  std::vector<exporting::Stack> all;
  for (const auto& [name, found] : stacks) all.push_back(found);
  if (!stack.empty()) {
    auto found = stacks.find(stack);
    if (found == stacks.end()) {
      std::vector<std::string> names;
      for (const auto& [name, unused] : stacks) names.push_back(name);
      out.errors.push_back(
          absl::StrCat("no stack \"", stack, "\" in what was given",
                       names.empty() ? "" : absl::StrCat(" (stacks: ", absl::StrJoin(names, ", "), ")")));
      return out;
    }
    exporting::Stack only = found->second;
    stacks = {{stack, only}};
  }
  if (stacks.empty()) out.errors.push_back("nothing to export: no Network, Volume or Service was given");
  for (const auto& [name, one] : stacks) {
    exporting::Warnings warn(out.warnings, name);
    ExportedFile file{name, "", ""};
    switch (target) {
      case ExportTarget::kCompose:
        file.name = name + ".compose.yml";
        file.text = absl::StrCat("# docker-compose -p ", name, " -f ", file.name, " up -d\n",
                                 exporting::ComposeFileOf(one, all, false, warn));
        break;
      case ExportTarget::kSwarm:
        file.name = name + ".stack.yml";
        file.text = absl::StrCat("# docker stack deploy -c ", file.name, " ", name, "\n",
                                 exporting::ComposeFileOf(one, all, true, warn));
        break;
      case ExportTarget::kKubernetes:
        file.name = name + ".k8s.yaml";
        file.text =
            absl::StrCat("# kubectl apply -f ", file.name, "\n", exporting::KubernetesObjectsOf(one, all, warn));
        break;
    }
    out.files.push_back(std::move(file));
  }
  return out;
}

}  // namespace opctl::cli
