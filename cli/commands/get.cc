// opctl get KIND|all [NAME] [-o yaml|json|wide|name] [-l SELECTOR] [--stack S] [-w]
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "cli/commands/commands.h"
#include "cli/event_table.h"
#include "cli/output.h"
#include "common/api_names.h"
#include "common/clock.h"

namespace opctl::cli {
namespace {

constexpr absl::Duration kMaxReconnectDelay = absl::Seconds(5);

std::string EventName(v1::WatchEvent::Type type) {
  switch (type) {
    case v1::WatchEvent::ADDED:
      return "ADDED";
    case v1::WatchEvent::MODIFIED:
      return "MODIFIED";
    case v1::WatchEvent::DELETED:
      return "DELETED";
    default:
      return "BOOKMARK";
  }
}

void PrintObjects(CommandContext& context, const std::string& kind, const std::vector<v1::Object>& objects,
                  const std::string& output, bool single) {
  if (output == "json") {
    context.out << (single && objects.size() == 1 ? ToJson(objects[0]) : ToJsonList(objects)) << "\n";
  } else if (output == "yaml") {
    // Several objects print as a multi-document stream that `opctl apply -f -` takes back.
    for (size_t i = 0; i < objects.size(); ++i) context.out << (i ? "---\n" : "") << ToYaml(objects[i]) << "\n";
  } else if (output == "name") {
    for (const v1::Object& object : objects) context.out << DisplayName(object) << "\n";
  } else if (kind == kKindNode && output == "wide") {
    // What is allocated on each node comes from the Containers bound to it.
    v1::ListRequest request;
    request.set_kind(kKindContainer);
    v1::ListResponse containers;
    grpc::Status status = context.client.List(request, &containers);
    NodeAllocations allocations = AllocationsOf({containers.items().begin(), containers.items().end()});
    context.out << ToTable(kind, objects, true, absl::Now(), true, status.ok() ? &allocations : nullptr);
  } else if (kind == kKindEvent) {
    std::vector<v1::Object> sorted = objects;
    SortByLastSeen(sorted);
    context.out << ToTable(kind, sorted, output == "wide", absl::Now());
  } else {
    context.out << ToTable(kind, objects, output == "wide", absl::Now());
  }
}

// --field-selector, with --for KIND/NAME (events only) added as kubectl's --for does.
absl::StatusOr<std::string> FieldSelectorOf(CommandContext& context, const std::string& kind) {
  std::string selector = context.arguments.Get("field-selector");
  if (!context.arguments.Has("for")) return selector;
  if (kind != kKindEvent)
    return absl::InvalidArgumentError("--for takes events only: opctl get events --for KIND/NAME");
  absl::StatusOr<ObjectReference> about = ParseReference({context.arguments.Get("for")});
  if (!about.ok()) return absl::InvalidArgumentError(absl::StrCat("--for: ", about.status().message()));
  if (about->name.empty()) return absl::InvalidArgumentError("--for needs KIND/NAME, e.g. service/redis-master");
  return absl::StrCat(selector, selector.empty() ? "" : ",", "involvedObject.kind=", about->kind->kind,
                      ",involvedObject.name=", about->name);
}

// Follows changes from `revision` until interrupted: resumes after a broken stream from the last
// revision seen, relists when that history is gone.
int Watch(CommandContext& context, const v1::WatchRequest& base, const std::string& name, const std::string& output,
          int64_t revision) {
  absl::Duration delay = absl::Milliseconds(100);
  while (true) {
    v1::WatchRequest request = base;
    request.set_resource_version(revision);
    std::unique_ptr<StreamReader<v1::WatchEvent>> reader = context.client.Watch(request);
    v1::WatchEvent event;
    while (reader->Read(&event)) {
      delay = absl::Milliseconds(100);
      revision = event.revision();
      if (event.type() == v1::WatchEvent::BOOKMARK) continue;
      if (!name.empty() && MetaOf(event.object()).name() != name) continue;
      if (output == "json") {
        context.out << "{\"type\":\"" << EventName(event.type()) << "\",\"object\":" << ToJson(event.object()) << "}\n";
      } else if (output == "yaml") {
        context.out << "---\n# " << EventName(event.type()) << "\n" << ToYaml(event.object()) << "\n";
      } else if (output == "name") {
        context.out << EventName(event.type()) << " " << DisplayName(event.object()) << "\n";
      } else {
        std::vector<std::string> row = TableRow(event.object(), output == "wide", absl::Now());
        row.insert(row.begin(), EventName(event.type()));
        context.out << FormatRows({row});
      }
      context.out.flush();
    }
    grpc::Status status = reader->Finish();
    if (status.error_code() == grpc::StatusCode::OUT_OF_RANGE ||
        status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      context.err << "opctl: " << status.error_message() << "; listing again\n";
      v1::ListRequest list;
      list.set_kind(base.kind());
      list.set_stack(base.stack());
      list.set_label_selector(base.label_selector());
      list.set_field_selector(base.field_selector());
      v1::ListResponse response;
      grpc::Status listed = context.client.List(list, &response);
      if (listed.ok()) {
        revision = response.revision();
        std::vector<v1::Object> items(response.items().begin(), response.items().end());
        PrintObjects(context, base.kind(), items, output, false);
      }
      continue;
    }
    if (status.error_code() == grpc::StatusCode::INVALID_ARGUMENT) return Fail(context, status.error_message());
    // The controller went away (restart, network): resume from the last revision seen.
    context.err << "opctl: watch interrupted (" << context.client.Explain(status) << "); reconnecting\n";
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(delay));
    delay = std::min(delay * 2, kMaxReconnectDelay);
  }
}

// The named object, or the kind's objects in the stack matching the selector; the revision to watch
// from.
grpc::Status Fetch(CommandContext& context, const std::string& kind, const std::string& name, const std::string& fields,
                   std::vector<v1::Object>* objects, int64_t* revision) {
  if (!name.empty()) {
    v1::GetRequest request;
    request.set_kind(kind);
    request.set_name(name);
    v1::Object object;
    grpc::Status status = context.client.Get(request, &object);
    if (!status.ok()) return status;
    *revision = MetaOf(object).resource_version();
    objects->push_back(std::move(object));
    return status;
  }
  v1::ListRequest request;
  request.set_kind(kind);
  request.set_stack(context.arguments.Get("stack"));
  request.set_label_selector(context.arguments.Get("selector"));
  request.set_field_selector(fields);
  v1::ListResponse response;
  grpc::Status status = context.client.List(request, &response);
  if (!status.ok()) return status;
  *revision = response.revision();
  objects->assign(response.items().begin(), response.items().end());
  return status;
}

}  // namespace

int RunGet(CommandContext& context) {
  const std::vector<std::string>& words = context.arguments.positional();
  std::string output = context.arguments.Get("output");
  if (!output.empty() && output != "json" && output != "yaml" && output != "wide" && output != "name") {
    return Fail(context, absl::StrCat("unknown output format \"", output, "\"; use yaml, json, wide or name"), 2);
  }
  if (!words.empty() && (words[0] == "controllers" || words[0] == "controller")) return RunGetControllers(context);
  std::vector<std::string> kinds;
  std::string name;
  if (!words.empty() && words[0] == "all") {
    if (words.size() > 1) return Fail(context, "get all takes no name", 2);
    kinds = {kKindNetwork, kKindVolume, kKindService, kKindContainer};
  } else {
    absl::StatusOr<ObjectReference> reference = ParseReference(words);
    if (!reference.ok()) return Fail(context, std::string(reference.status().message()), 2);
    kinds = {reference->kind->kind};
    name = reference->name;
  }
  bool watch = context.arguments.Has("watch");
  if (watch && kinds.size() > 1) return Fail(context, "get all cannot watch; watch one kind", 2);
  absl::StatusOr<std::string> fields = FieldSelectorOf(context, kinds[0]);
  if (!fields.ok()) return Fail(context, std::string(fields.status().message()), 2);

  std::vector<v1::Object> all;
  int64_t revision = 0;
  bool printed_section = false;
  for (const std::string& kind : kinds) {
    std::vector<v1::Object> objects;
    if (grpc::Status status = Fetch(context, kind, name, *fields, &objects, &revision); !status.ok()) {
      return Fail(context, context.client.Explain(status));
    }
    if (output == "json" || output == "yaml") {
      all.insert(all.end(), objects.begin(), objects.end());
      continue;
    }
    if (objects.empty() && kinds.size() > 1) continue;
    if (objects.empty() && output != "name") {
      context.err << "No " << FindKind(kind)->plural << " found"
                  << (context.arguments.Get("stack").empty() ? "" : " in stack " + context.arguments.Get("stack"))
                  << ".\n";
      continue;
    }
    if (printed_section && output != "name") context.out << "\n";
    PrintObjects(context, kind, objects, output, !name.empty());
    printed_section = true;
  }
  if (output == "json" || output == "yaml") PrintObjects(context, kinds[0], all, output, !name.empty());
  context.out.flush();
  if (!watch) return 0;
  v1::WatchRequest request;
  request.set_kind(kinds[0]);
  request.set_stack(context.arguments.Get("stack"));
  request.set_label_selector(context.arguments.Get("selector"));
  request.set_field_selector(*fields);
  return Watch(context, request, name, output, revision);
}

}  // namespace opctl::cli
