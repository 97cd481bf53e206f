// opctl describe KIND NAME: metadata, spec, status, conditions and owned objects.
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "cli/commands/commands.h"
#include "cli/event_table.h"
#include "cli/output.h"
#include "common/api_names.h"
#include "common/clock.h"

namespace opctl::cli {
namespace {

// The YAML of one top-level section ("spec:" or "status:") of the object, indented under a title.
std::string Section(const std::string& yaml, const std::string& key) {
  std::string out;
  bool inside = false;
  for (absl::string_view line : absl::StrSplit(yaml, '\n')) {
    if (!line.empty() && line[0] != ' ' && line[0] != '-')
      inside = absl::StartsWith(line, key + ":");
    else if (inside)
      out += absl::StrCat(line, "\n");
  }
  return out.empty() ? "  <none>\n" : out;
}

// Name, kind, stack, labels (one a line), uid, times, versions, owners.
std::string MetadataTable(const v1::Object& object) {
  const v1::ObjectMeta& meta = MetaOf(object);
  std::vector<std::vector<std::string>> header = {
      {"Name:", meta.name()},
      {"Kind:", KindOf(object)},
      {"Stack:", meta.stack().empty() ? "<none>" : meta.stack()},
      {"Labels:", meta.labels().empty() ? "<none>" : ""},
  };
  std::map<std::string, std::string> labels(meta.labels().begin(), meta.labels().end());
  bool first = true;
  for (const auto& [key, value] : labels) {
    if (first)
      header.back()[1] = absl::StrCat(key, "=", value);
    else
      header.push_back({"", absl::StrCat(key, "=", value)});
    first = false;
  }
  header.push_back({"UID:", meta.uid()});
  header.push_back({"Created:", meta.creation_timestamp()});
  header.push_back({"Resource version:", absl::StrCat(meta.resource_version())});
  header.push_back({"Generation:", absl::StrCat(meta.generation())});
  if (!meta.deletion_timestamp().empty()) header.push_back({"Deleting since:", meta.deletion_timestamp()});
  for (const v1::OwnerReference& owner : meta.owner_references()) {
    header.push_back({"Owned by:", DisplayName(owner.kind(), owner.name())});
  }
  return FormatRows(header);
}

// Conditions get their own table; the rest of the status prints as YAML.
void PrintStatus(std::ostream& out, const v1::Object& object) {
  v1::Object without_conditions = object;
  google::protobuf::Message* status_message = MutableStatusOf(&without_conditions);
  const auto* conditions_field = status_message->GetDescriptor()->FindFieldByName("conditions");
  std::vector<std::vector<std::string>> condition_rows = {{"TYPE", "STATUS", "REASON", "MESSAGE", "SINCE"}};
  if (conditions_field != nullptr) {
    const auto* reflection = status_message->GetReflection();
    for (int i = 0; i < reflection->FieldSize(*status_message, conditions_field); ++i) {
      const auto& condition =
          static_cast<const v1::Condition&>(reflection->GetRepeatedMessage(*status_message, conditions_field, i));
      condition_rows.push_back({condition.type(), condition.status(), condition.reason(), condition.message(),
                                condition.last_transition_time()});
    }
    reflection->ClearField(status_message, conditions_field);
  }
  out << "Status:\n" << Section(ToYaml(without_conditions), "status");
  out << "Conditions:\n";
  if (condition_rows.size() == 1) {
    out << "  <none>\n";
    return;
  }
  std::istringstream table(FormatRows(condition_rows));
  for (std::string line; std::getline(table, line);) out << "  " << line << "\n";
}

// An Event has neither spec nor status: what happened, to what, how often, who saw it.
void PrintEvent(std::ostream& out, const v1::Event& event) {
  std::string source = event.reporting_component();
  if (!event.reporting_node().empty()) absl::StrAppend(&source, " on node ", event.reporting_node());
  out << FormatRows({{"Involved object:", DisplayName(event.involved_object().kind(), event.involved_object().name())},
                     {"Type:", event.type()},
                     {"Reason:", event.reason()},
                     {"Message:", event.message()},
                     {"Count:", absl::StrCat(event.count())},
                     {"First seen:", event.first_timestamp()},
                     {"Last seen:", event.last_timestamp()},
                     {"Source:", source}});
}

// A Service's Containers, as `get containers -o wide` shows them.
void PrintContainersOf(CommandContext& context, const std::string& service) {
  v1::ListRequest list;
  list.set_kind(kKindContainer);
  v1::ListResponse response;
  if (!context.client.List(list, &response).ok()) return;
  std::vector<v1::Object> owned;
  for (const v1::Object& container : response.items()) {
    if (container.container().spec().service() == service) owned.push_back(container);
  }
  context.out << "Containers:\n";
  if (owned.empty()) context.out << "  <none>\n";
  std::istringstream table(ToTable(kKindContainer, owned, true, absl::Now()));
  for (std::string line; !owned.empty() && std::getline(table, line);) context.out << "  " << line << "\n";
}

// The object's Events, as kubectl describe ends: asked for by kind and name (a namesake deleted
// and made again shares them, as in Kubernetes).
void PrintEventsOf(CommandContext& context, const v1::Object& object) {
  v1::ListRequest list;
  list.set_kind(kKindEvent);
  list.set_field_selector(
      absl::StrCat("involvedObject.kind=", KindOf(object), ",involvedObject.name=", MetaOf(object).name()));
  v1::ListResponse response;
  if (grpc::Status status = context.client.List(list, &response); !status.ok()) {
    context.out << "Events:\n  <unknown: " << context.client.Explain(status) << ">\n";
    return;
  }
  context.out << DescribeEvents({response.items().begin(), response.items().end()}, absl::Now());
}

}  // namespace

int RunDescribe(CommandContext& context) {
  absl::StatusOr<ObjectReference> reference = ParseReference(context.arguments.positional());
  if (!reference.ok()) return Fail(context, std::string(reference.status().message()), 2);
  if (reference->name.empty()) return Fail(context, "describe needs KIND NAME", 2);
  v1::GetRequest request;
  request.set_kind(reference->kind->kind);
  request.set_name(reference->name);
  v1::Object object;
  grpc::Status status = context.client.Get(request, &object);
  if (!status.ok()) return Fail(context, context.client.Explain(status));
  context.out << MetadataTable(object);
  if (object.has_event()) {
    PrintEvent(context.out, object.event());
    return 0;
  }
  context.out << "Spec:\n" << Section(ToYaml(object), "spec");
  PrintStatus(context.out, object);
  if (KindOf(object) == kKindService) PrintContainersOf(context, MetaOf(object).name());
  if (KindOf(object) != kKindEvent) PrintEventsOf(context, object);
  return 0;
}

}  // namespace opctl::cli
