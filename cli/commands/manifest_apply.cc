// What `opctl apply` and `opctl diff` share: reading and checking the manifests, and the controller's
// Apply with its refusals turned back into file:line errors.
#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "common/validation.h"

namespace opctl::cli {

std::vector<std::string> CheckManifests(const ParsedManifests& parsed) {
  // Every error at once, with file and line, before anything is sent.
  std::vector<std::string> errors = parsed.errors;
  if (errors.empty()) {
    std::vector<v1::Object> objects;
    for (const ManifestDocument& document : parsed.documents) objects.push_back(document.object);
    for (const FieldError& error : ValidateApply(objects, nullptr)) {
      errors.push_back(parsed.documents[error.document].Describe(error));
    }
  }
  if (parsed.documents.empty() && errors.empty()) errors.push_back("no objects found in the given manifests");
  return errors;
}

int RefuseManifests(CommandContext& context, const std::vector<std::string>& errors, const std::string& outcome,
                    int code) {
  for (const std::string& error : errors) context.err << "error: " << error << "\n";
  return Fail(context, absl::StrCat("nothing was ", outcome, " (", errors.size(), " error(s))"), code);
}

grpc::Status SendApply(CommandContext& context, const ParsedManifests& parsed, bool dry_run,
                       v1::ApplyResponse* response, std::vector<std::string>* errors) {
  v1::ApplyRequest request;
  for (const ManifestDocument& document : parsed.documents) {
    v1::Object& object = *request.add_objects();
    object = document.object;
    // Where a Service's template came from, for `opctl rollout history` (unless the file says).
    if (object.has_service()) {
      object.mutable_service()->mutable_metadata()->mutable_annotations()->try_emplace(
          kChangeCauseAnnotation, absl::StrCat("opctl apply -f ", document.file));
    }
  }
  request.set_dry_run(dry_run);
  grpc::Status status = context.client.Apply(request, response);
  v1::ApplyErrors details;
  if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT && details.ParseFromString(status.error_details())) {
    for (const v1::FieldError& error : details.errors()) {
      FieldError field_error{error.document(), error.object(), error.field(), error.message()};
      bool known = error.document() >= 0 && error.document() < static_cast<int>(parsed.documents.size());
      errors->push_back(known ? parsed.documents[error.document()].Describe(field_error) : field_error.ToString());
    }
  }
  return status;
}

}  // namespace opctl::cli
