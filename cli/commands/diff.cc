// opctl diff -f FILE|DIR|-: what `opctl apply` of the same manifests would change, as kubectl diff
// shows it: for each object, `diff -u` of the object as stored now and as the apply would store it
// (the controller's dry run, so its checks and merging are the real ones). Fields the controller
// keeps (status, uid, versions, timestamps) and the change cause apply records are left out of both. Exit codes are
// kubectl's: 0 when nothing would change, 1 when something would, 2 on any error.
#include "cli/commands/commands.h"
#include "cli/line_diff.h"
#include "cli/output.h"
#include "common/api_names.h"

namespace opctl::cli {
namespace {

constexpr int kDifferences = 1;
constexpr int kError = 2;

// The object as its author sees it: what the controller adds (status, identity, versions) goes.
std::string AuthoredYaml(v1::Object object) {
  google::protobuf::Message* inner = MutableInner(&object, KindOf(object));
  inner->GetReflection()->ClearField(inner, inner->GetDescriptor()->FindFieldByName("status"));
  v1::ObjectMeta* meta = MutableMetaOf(&object);
  meta->clear_uid();
  meta->clear_resource_version();
  meta->clear_generation();
  meta->clear_creation_timestamp();
  // Which command applied it last (apply sets it) is no change of what the stack is.
  meta->mutable_annotations()->erase(kChangeCauseAnnotation);
  return ToSortedYaml(object) + "\n";
}

}  // namespace

int RunDiff(CommandContext& context) {
  std::vector<std::string> paths = context.arguments.GetAll("filename");
  if (paths.empty()) return Fail(context, "diff needs -f FILE, -f DIRECTORY or -f - (standard input)", kError);
  ParsedManifests parsed = LoadManifests(paths);
  if (std::vector<std::string> errors = CheckManifests(parsed); !errors.empty()) {
    return RefuseManifests(context, errors, "compared", kError);
  }
  v1::ApplyResponse response;
  std::vector<std::string> errors;
  grpc::Status status = SendApply(context, parsed, /*dry_run=*/true, &response, &errors);
  if (!errors.empty()) return RefuseManifests(context, errors, "compared", kError);
  if (!status.ok()) return Fail(context, context.client.Explain(status), kError);

  bool differs = false;
  for (const v1::ApplyResult& result : response.results()) {
    if (result.action() == "unchanged") continue;
    std::string name = DisplayName(result.kind(), result.name());
    std::string live;  // empty: the apply would create it
    if (result.action() != "created") {
      v1::GetRequest request;
      request.set_kind(result.kind());
      request.set_name(result.name());
      v1::Object object;
      grpc::Status got = context.client.Get(request, &object);
      if (got.ok()) {
        live = AuthoredYaml(object);
      } else if (got.error_code() != grpc::StatusCode::NOT_FOUND) {  // deleted meanwhile: all of it is new
        return Fail(context, context.client.Explain(got), kError);
      }
    }
    std::string diff = UnifiedDiff(live, AuthoredYaml(result.object()), "live/" + name, "applied/" + name);
    context.out << diff;
    differs = differs || !diff.empty();
  }
  return differs ? kDifferences : 0;
}

}  // namespace opctl::cli
