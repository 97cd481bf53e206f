// opctl rollout history service/NAME [--revision N]: the templates the controller keeps for a Service
// (spec.rollout.revisionHistoryLimit, default 10), with what changed each; one of them in full.
// opctl rollout undo service/NAME [--to-revision N]: back to the revision before the current one, or
// to N, rolled out as any template change is (the Redis pre-stop handover included).
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/commands/commands.h"
#include "cli/output.h"
#include "common/api_names.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::cli {
namespace {

using Revisions = google::protobuf::RepeatedPtrField<v1::ServiceRevision>;

std::string RevisionList(const Revisions& revisions) {
  std::vector<std::string> numbers;
  for (const v1::ServiceRevision& revision : revisions) numbers.push_back(absl::StrCat(revision.revision()));
  return numbers.empty() ? "none yet" : absl::StrJoin(numbers, ", ");
}

const v1::ServiceRevision* FindRevision(const Revisions& revisions, int64_t number) {
  for (const v1::ServiceRevision& revision : revisions) {
    if (revision.revision() == number) return &revision;
  }
  return nullptr;
}

// --revision / --to-revision: 0 when absent; -1 when not a revision number (after printing why).
int64_t RevisionFlag(CommandContext& context, const std::string& flag) {
  if (!context.arguments.Has(flag)) return 0;
  int64_t number = 0;
  if (!absl::SimpleAtoi(context.arguments.Get(flag), &number) || number < 1) {
    Fail(context, absl::StrCat("--", flag, " takes a revision number: 1, 2, ..."), 2);
    return -1;
  }
  return number;
}

}  // namespace

int RolloutHistory(CommandContext& context, const std::string& name) {
  int64_t wanted = RevisionFlag(context, "revision");
  if (wanted < 0) return 2;
  absl::StatusOr<v1::Object> service = GetService(context, name);
  if (!service.ok()) return Fail(context, std::string(service.status().message()));
  const Revisions& revisions = service->service().status().revisions();
  if (wanted > 0) {
    const v1::ServiceRevision* revision = FindRevision(revisions, wanted);
    if (revision == nullptr) {
      return Fail(context, absl::StrCat("service/", name, " has no revision ", wanted, " (it has ",
                                        RevisionList(revisions), ")"));
    }
    context.out << "service/" << name << " with revision #" << wanted << "\n"
                << "Change cause: " << (revision->change_cause().empty() ? "<none>" : revision->change_cause()) << "\n"
                << "Created: " << revision->created() << "\nTemplate:\n"
                << MessageToYaml(revision->template_()) << "\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows = {{"REVISION", "CREATED", "CHANGE-CAUSE"}};
  for (const v1::ServiceRevision& revision : revisions) {
    rows.push_back({absl::StrCat(revision.revision()), revision.created(),
                    revision.change_cause().empty() ? "<none>" : revision.change_cause()});
  }
  context.out << "service/" << name << "\n" << FormatRows(rows);
  return 0;
}

int RolloutUndo(CommandContext& context, const std::string& name) {
  int64_t wanted = RevisionFlag(context, "to-revision");
  if (wanted < 0) return 2;
  absl::StatusOr<v1::Object> service = GetService(context, name);
  if (!service.ok()) return Fail(context, std::string(service.status().message()));
  const Revisions& revisions = service->service().status().revisions();
  const v1::ServiceRevision* target = nullptr;
  if (wanted > 0) {
    target = FindRevision(revisions, wanted);
    if (target == nullptr) {
      return Fail(context, absl::StrCat("service/", name, " has no revision ", wanted, "; its revisions are ",
                                        RevisionList(revisions)));
    }
  } else if (revisions.size() >= 2) {
    target = &revisions[revisions.size() - 2];
  } else {
    return Fail(context, absl::StrCat("service/", name, " has no earlier revision to go back to (it has ",
                                      RevisionList(revisions), ")"));
  }
  v1::Service& spec_holder = *service->mutable_service();
  if (google::protobuf::util::MessageDifferencer::Equals(spec_holder.spec().template_(), target->template_())) {
    context.out << "service/" << name << " skipped rollback (the current template is revision " << target->revision()
                << "'s)\n";
    return 0;
  }
  *spec_holder.mutable_spec()->mutable_template_() = target->template_();
  (*spec_holder.mutable_metadata()->mutable_annotations())[kChangeCauseAnnotation] =
      absl::StrCat("opctl rollout undo service/", name, " --to-revision ", target->revision(),
                   target->change_cause().empty() ? "" : " (" + target->change_cause() + ")");
  if (absl::Status applied = ApplyService(context, *service); !applied.ok()) {
    return Fail(context, std::string(applied.message()));
  }
  context.out << "service/" << name << " rolled back to revision " << target->revision()
              << " (follow with opctl rollout status service/" << name << ")\n";
  return 0;
}

}  // namespace opctl::cli
