// opctl delete KIND NAME | -f FILE [--delete-data] [--ignore-not-found]
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "cli/manifest.h"
#include "common/api_names.h"

namespace opctl::cli {

bool DeleteObject(CommandContext& context, const std::string& kind, const std::string& name, bool delete_data,
                  bool ignore_not_found, const std::string& done) {
  v1::DeleteRequest request;
  request.set_kind(kind);
  request.set_name(name);
  request.set_delete_data(delete_data);
  v1::DeleteResponse response;
  grpc::Status status = context.client.Delete(request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND && ignore_not_found) return true;
  if (!status.ok()) {
    Fail(context, context.client.Explain(status));
    return false;
  }
  for (const std::string& deleted : response.deleted()) {
    bool marked = kind == kKindVolume && delete_data;
    context.out << deleted << " " << (marked ? "marked for deletion with its data" : done) << "\n";
  }
  return true;
}

int RunDelete(CommandContext& context) {
  bool delete_data = context.arguments.Has("delete-data");
  bool ignore_not_found = context.arguments.Has("ignore-not-found");
  std::vector<std::string> paths = context.arguments.GetAll("filename");
  if (!paths.empty()) {
    ParsedManifests parsed = LoadManifests(paths);
    if (!parsed.errors.empty()) {
      for (const std::string& error : parsed.errors) context.err << "error: " << error << "\n";
      return Fail(context, "nothing was deleted");
    }
    // Users of networks and volumes go first: the reverse of the order they are applied in.
    std::vector<ManifestDocument> documents = parsed.documents;
    std::stable_sort(documents.begin(), documents.end(), [](const auto& a, const auto& b) {
      return FindKind(KindOf(a.object))->oneof_field > FindKind(KindOf(b.object))->oneof_field;
    });
    bool ok = true;
    for (const ManifestDocument& document : documents) {
      ok &=
          DeleteObject(context, KindOf(document.object), MetaOf(document.object).name(), delete_data, ignore_not_found);
    }
    return ok ? 0 : 1;
  }
  absl::StatusOr<ObjectReference> reference = ParseReference(context.arguments.positional());
  if (!reference.ok()) return Fail(context, std::string(reference.status().message()), 2);
  if (reference->name.empty()) return Fail(context, "delete needs KIND NAME or -f FILE", 2);
  return DeleteObject(context, reference->kind->kind, reference->name, delete_data, ignore_not_found) ? 0 : 1;
}

}  // namespace opctl::cli
