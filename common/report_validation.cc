// What agents and in-process controllers report, bounded and checked as applies are: a heartbeat's
// Node, and any status written to an object.
#include "common/clock.h"
#include "common/ipv4.h"
#include "common/message_bounds.h"
#include "common/validation_checker.h"

namespace opctl {

using validation_internal::Checker;
using validation_internal::kMaxNodeNameLength;
using validation_internal::kMaxObjectBytes;
using validation_internal::kNodeName;
using validation_internal::kVolumeName;
using validation_internal::Matches;

std::vector<FieldError> ValidateNodeReport(const v1::Node& node) {
  std::vector<FieldError> errors;
  Checker check(0, "Node", node.metadata().name(), errors);
  std::vector<BoundViolation> violations = CheckBounds(node, "");
  for (BoundViolation& violation : violations) check.Fail(violation.field, violation.message);
  if (!violations.empty()) return errors;
  if (!Matches(node.metadata().name(), kMaxNodeNameLength, kNodeName)) {
    check.Fail("metadata.name",
               absl::StrCat(Quote(node.metadata().name()),
                            " is not a node name: letters, digits, '-', '_' and '.', at most ", kMaxNodeNameLength));
  }
  check.Labels("metadata.labels", node.metadata().labels());
  const v1::NodeStatus& status = node.status();
  if (status.capacity().memory_bytes() < 0) check.Fail("status.capacity.memoryBytes", "must not be negative");
  if (status.capacity().milli_cpus() < 0) check.Fail("status.capacity.milliCpus", "must not be negative");
  for (const auto& [field, value] : {std::pair{"status.dockerVersion", &status.docker_version()},
                                     std::pair{"status.apiVersion", &status.api_version()},
                                     std::pair{"status.agentAddress", &status.agent_address()},
                                     std::pair{"status.agentVersion", &status.agent_version()}}) {
    if (value->size() > kMaxNodeNameLength) check.Fail(field, absl::StrCat(Quote(*value), " is too long"));
  }
  if (!status.overlay_address().empty() && !ParseIpv4(status.overlay_address()).ok()) {
    check.Fail("status.overlayAddress", absl::StrCat(Quote(status.overlay_address()), " is not an IPv4 address"));
  }
  for (int i = 0; i < status.volumes_size(); ++i) {
    if (!Matches(status.volumes(i), kMaxNodeNameLength, kVolumeName)) {
      check.Fail(absl::StrCat("status.volumes[", i, "]"),
                 absl::StrCat(Quote(status.volumes(i)), " is not a volume name"));
    }
  }
  return errors;
}

std::vector<FieldError> ValidateEventReport(const v1::Event& event, int index) {
  std::vector<FieldError> errors;
  Checker check(index, "event", errors);
  std::string at = absl::StrCat("events[", index, "]");
  MessageBounds bounds;
  bounds.max_string_bytes = kMaxStatusStringBytes;
  std::vector<BoundViolation> violations = CheckBounds(event, at, bounds);
  for (BoundViolation& violation : violations) check.Fail(violation.field, violation.message);
  if (!violations.empty()) return errors;
  const KindInfo* kind = FindKind(event.involved_object().kind());
  if (kind == nullptr || kind->kind == kKindEvent) {
    check.Fail(at + ".involvedObject.kind",
               absl::StrCat(Quote(event.involved_object().kind()), " is not a kind an Event can be about"));
  }
  if (event.involved_object().name().empty() || event.involved_object().name().size() > kMaxNodeNameLength) {
    check.Fail(at + ".involvedObject.name", "is required, at most 253 characters");
  }
  if (!Matches(event.reason(), 128, validation_internal::kEventReason)) {
    check.Fail(at + ".reason", absl::StrCat(Quote(event.reason()), " is not a CamelCase reason"));
  }
  if (event.type() != kEventNormal && event.type() != kEventWarning) {
    check.Fail(at + ".type", absl::StrCat(Quote(event.type()), ": Normal or Warning"));
  }
  if (event.count() < 1) check.Fail(at + ".count", "must be at least 1");
  for (const auto& [field, value] :
       {std::pair{".firstTimestamp", &event.first_timestamp()}, std::pair{".lastTimestamp", &event.last_timestamp()}}) {
    if (ParseTimestamp(*value) == absl::InfinitePast()) {
      check.Fail(at + field, absl::StrCat(Quote(*value), " is not an RFC 3339 time"));
    }
  }
  return errors;
}

std::vector<FieldError> ValidateStatus(const v1::Object& object) {
  std::vector<FieldError> errors;
  std::string kind = KindOf(object);
  if (kind.empty()) {
    errors.push_back({0, "", "kind", absl::StrCat("is required; one of ", KnownKindNames())});
    return errors;
  }
  Checker check(0, kind, MetaOf(object).name(), errors);
  if (size_t bytes = object.ByteSizeLong(); bytes > kMaxObjectBytes) {
    check.Fail("", absl::StrCat("is ", bytes >> 10, " KiB; an object may be at most ", kMaxObjectBytes >> 20, " MiB"));
    return errors;
  }
  // A status is the writer's report, not the user's: bounded tighter than a spec.
  MessageBounds bounds;
  bounds.max_string_bytes = kMaxStatusStringBytes;
  bounds.max_entries = kMaxStatusEntries;
  for (BoundViolation& violation : CheckBounds(StatusOf(object), "status", bounds)) {
    check.Fail(violation.field, violation.message);
  }
  return errors;
}

}  // namespace opctl
