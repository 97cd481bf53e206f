// opctl delete KIND NAME | -f FILE [--delete-data] [--ignore-not-found]
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "cli/manifest.h"

namespace opctl::cli {
namespace {

// Deletes one object; prints each object removed. Returns false on failure (already reported).
bool DeleteOne(CommandContext& context, const std::string& kind, const std::string& name) {
  v1::DeleteRequest request;
  request.set_kind(kind);
  request.set_name(name);
  request.set_delete_data(context.arguments.Has("delete-data"));
  v1::DeleteResponse response;
  grpc::Status status = context.client.Call(&v1::Controller::Stub::Delete, request, &response);
  if (status.error_code() == grpc::StatusCode::NOT_FOUND && context.arguments.Has("ignore-not-found")) return true;
  if (!status.ok()) {
    Fail(context, context.client.Explain(status));
    return false;
  }
  for (const std::string& deleted : response.deleted()) {
    bool marked = kind == "Volume" && request.delete_data();
    context.out << deleted << (marked ? " marked for deletion with its data" : " deleted") << "\n";
  }
  return true;
}

}  // namespace

int RunDelete(CommandContext& context) {
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
      ok &= DeleteOne(context, KindOf(document.object), MetaOf(document.object).name());
    }
    return ok ? 0 : 1;
  }
  absl::StatusOr<ObjectReference> reference = ParseReference(context.arguments.positional());
  if (!reference.ok()) return Fail(context, std::string(reference.status().message()), 2);
  if (reference->name.empty()) return Fail(context, "delete needs KIND NAME or -f FILE", 2);
  return DeleteOne(context, reference->kind->kind, reference->name) ? 0 : 1;
}

}  // namespace opctl::cli
