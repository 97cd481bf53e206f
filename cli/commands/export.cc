// opctl export --to compose|swarm|kubernetes [-f FILE|DIR] [--stack NAME] [-o DIR|-]
#include "cli/migrate/export.h"

#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"

namespace opctl::cli {
namespace {

// The manifests' objects, or (without -f) every object the controller holds; false after saying why.
bool ReadObjects(CommandContext& context, std::vector<v1::Object>* objects) {
  std::vector<std::string> paths = context.arguments.GetAll("filename");
  if (!paths.empty()) {
    ParsedManifests parsed = LoadManifests(paths);
    std::vector<std::string> errors = CheckManifests(parsed);
    if (!errors.empty()) {
      RefuseManifests(context, errors, "exported", 1);
      return false;
    }
    for (const ManifestDocument& document : parsed.documents) objects->push_back(document.object);
    return true;
  }
  v1::ListRequest request;
  request.set_stack(context.arguments.Get("stack"));
  v1::ListResponse response;
  if (grpc::Status status = context.client.List(request, &response); !status.ok()) {
    Fail(context, absl::StrCat("listing the controller's objects: ", status.error_message()));
    return false;
  }
  objects->assign(response.items().begin(), response.items().end());
  return true;
}

}  // namespace

int RunExport(CommandContext& context) {
  absl::StatusOr<ExportTarget> target = ParseExportTarget(context.arguments.Get("to"));
  if (!target.ok()) return Fail(context, std::string(target.status().message()), 2);
  std::vector<v1::Object> objects;
  if (!ReadObjects(context, &objects)) return 1;
  Exported exported = ExportObjects(objects, *target, context.arguments.Get("stack"));
  for (const std::string& error : exported.errors) context.err << "opctl: " << error << "\n";
  if (!exported.errors.empty()) return 1;
  for (const std::string& warning : exported.warnings) context.err << "warning: " << warning << "\n";
  std::string destination = context.arguments.Get("output", "-");
  if (destination == "-") {
    if (exported.files.size() > 1) {
      return Fail(
          context,
          absl::StrCat(exported.files.size(), " stacks: name one with --stack, or write a file for each with -o DIR"),
          2);
    }
    context.out << exported.files.front().text;
    return 0;
  }
  std::error_code error;
  std::filesystem::create_directories(destination, error);
  for (const ExportedFile& file : exported.files) {
    std::string path = (std::filesystem::path(destination) / file.name).string();
    std::ofstream out(path);
    if (!(out << file.text)) return Fail(context, absl::StrCat("cannot write ", path));
    context.out << "wrote " << path << "\n";
  }
  return 0;
}

}  // namespace opctl::cli
