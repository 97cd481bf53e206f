// opctl apply --prune: the objects of the applied stacks that the manifests no longer name.
#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"

namespace opctl::cli {

std::set<std::string> StacksOf(const ParsedManifests& parsed) {
  std::set<std::string> stacks;
  for (const ManifestDocument& document : parsed.documents) {
    if (!MetaOf(document.object).stack().empty()) stacks.insert(MetaOf(document.object).stack());
  }
  return stacks;
}

int PruneStacks(CommandContext& context, const ParsedManifests& parsed, bool dry_run) {
  std::set<std::string> named;  // "Service/web"
  for (const ManifestDocument& document : parsed.documents) {
    named.insert(absl::StrCat(KindOf(document.object), "/", MetaOf(document.object).name()));
  }
  std::set<std::string> stacks = StacksOf(parsed);
  bool ok = true;
  // Users first, as `delete -f` does: a Network or Volume is refused deletion while a Service uses it.
  for (const char* kind : {"Service", "Network", "Volume"}) {
    for (const std::string& stack : stacks) {
      v1::ListRequest request;
      request.set_kind(kind);
      request.set_stack(stack);
      v1::ListResponse response;
      grpc::Status status = context.client.List(request, &response);
      if (!status.ok()) return Fail(context, context.client.Explain(status));
      for (const v1::Object& object : response.items()) {
        const v1::ObjectMeta& meta = MetaOf(object);
        bool made_by_controller = meta.owner_references_size() > 0 || meta.labels().contains(kServiceLabel);
        if (named.count(absl::StrCat(kind, "/", meta.name())) || made_by_controller ||
            !meta.deletion_timestamp().empty()) {
          continue;
        }
        if (dry_run) {
          context.out << DisplayName(object) << " pruned (server dry run)\n";
          continue;
        }
        ok &= DeleteObject(context, kind, meta.name(), /*delete_data=*/false, /*ignore_not_found=*/true, "pruned");
      }
    }
  }
  return ok ? 0 : 1;
}

}  // namespace opctl::cli
