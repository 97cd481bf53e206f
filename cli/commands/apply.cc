// opctl apply -f FILE|DIR|- [--dry-run[=client|server]]
#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "cli/manifest.h"
#include "common/quantity.h"
#include "common/validation.h"

namespace opctl::cli {

int RunApply(CommandContext& context) {
  std::vector<std::string> paths = context.arguments.GetAll("filename");
  if (paths.empty()) return Fail(context, "apply needs -f FILE, -f DIRECTORY or -f - (standard input)", 2);
  ParsedManifests parsed = LoadManifests(paths);
  // Local checks first: every error at once, with file and line, before anything is sent.
  std::vector<std::string> errors = parsed.errors;
  if (errors.empty()) {
    std::vector<v1::Object> objects;
    for (const ManifestDocument& document : parsed.documents) objects.push_back(document.object);
    for (const FieldError& error : ValidateApply(objects, nullptr)) {
      errors.push_back(parsed.documents[error.document].Describe(error));
    }
  }
  if (parsed.documents.empty() && errors.empty()) errors.push_back("no objects found in the given manifests");
  if (!errors.empty()) {
    for (const std::string& error : errors) context.err << "error: " << error << "\n";
    return Fail(context, absl::StrCat("nothing was applied (", errors.size(), " error(s))"));
  }

  std::string dry_run = context.arguments.Has("dry-run") ? context.arguments.Get("dry-run", "server") : "";
  if (dry_run == "client") {
    for (const ManifestDocument& document : parsed.documents) {
      context.out << DisplayName(document.object) << " valid (dry run)\n";
    }
    return 0;
  }
  v1::ApplyRequest request;
  for (const ManifestDocument& document : parsed.documents) *request.add_objects() = document.object;
  request.set_dry_run(!dry_run.empty());
  v1::ApplyResponse response;
  grpc::Status status = context.client.Call(&v1::Controller::Stub::Apply, request, &response);
  if (!status.ok()) {
    v1::ApplyErrors details;
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT && details.ParseFromString(status.error_details()) &&
        details.errors_size() > 0) {
      for (const v1::FieldError& error : details.errors()) {
        FieldError field_error{error.document(), error.object(), error.field(), error.message()};
        bool known = error.document() >= 0 && error.document() < static_cast<int>(parsed.documents.size());
        context.err << "error: "
                    << (known ? parsed.documents[error.document()].Describe(field_error) : field_error.ToString())
                    << "\n";
      }
      return Fail(context, absl::StrCat("nothing was applied (", details.errors_size(), " error(s))"));
    }
    return Fail(context, context.client.Explain(status));
  }
  std::vector<std::string> services;
  for (const v1::ApplyResult& result : response.results()) {
    context.out << DisplayName(result.kind(), result.name()) << " " << result.action()
                << (dry_run.empty() ? "" : " (server dry run)") << "\n";
    if (result.kind() == "Service") services.push_back(result.name());
  }
  if (!context.arguments.Has("wait") || !dry_run.empty()) return 0;
  absl::StatusOr<absl::Duration> timeout = ParseDuration(context.arguments.Get("timeout", "120s"));
  if (!timeout.ok()) return Fail(context, absl::StrCat("--timeout: ", timeout.status().message()), 2);
  context.out.flush();
  return WaitForServices(context, services, *timeout);
}

}  // namespace opctl::cli
