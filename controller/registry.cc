#include "controller/registry.h"

#include <memory>
#include <random>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/api_names.h"
#include "common/conditions.h"
#include "common/message_bounds.h"
#include "common/object.h"
#include "controller/stored_object.h"
#include "controller/write_guards.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::controller {
namespace {

// Errors listed in an Apply's answer at most: the details carry this many, the message fewer.
constexpr size_t kMaxReportedErrors = 100;
constexpr size_t kMaxErrorLines = 20;

using google::protobuf::util::MessageDifferencer;

absl::Status ValidationFailed(const std::vector<FieldError>& errors) {
  v1::ApplyErrors details;
  std::vector<std::string> lines;
  // Bounded, whatever the request: the answer must fit in gRPC's trailers.
  for (size_t i = 0; i < errors.size() && i < kMaxReportedErrors; ++i) {
    const FieldError& error = errors[i];
    v1::FieldError* out = details.add_errors();
    out->set_document(error.document);
    out->set_object(error.object);
    out->set_field(error.field);
    out->set_message(error.message);
    if (i < kMaxErrorLines) lines.push_back(absl::StrCat("document ", error.document + 1, ": ", error.ToString()));
  }
  if (errors.size() > lines.size()) lines.push_back(absl::StrCat("... and ", errors.size() - lines.size(), " more"));
  absl::Status status = absl::InvalidArgumentError(
      absl::StrCat("nothing was applied; ", errors.size(), " error(s):\n", absl::StrJoin(lines, "\n")));
  status.SetPayload(kApplyErrorsPayload, absl::Cord(details.SerializeAsString()));
  return status;
}

bool MetaChanged(const v1::ObjectMeta& a, const v1::ObjectMeta& b) {
  return a.stack() != b.stack() ||
         std::map<std::string, std::string>(a.labels().begin(), a.labels().end()) !=
             std::map<std::string, std::string>(b.labels().begin(), b.labels().end()) ||
         std::map<std::string, std::string>(a.annotations().begin(), a.annotations().end()) !=
             std::map<std::string, std::string>(b.annotations().begin(), b.annotations().end());
}

}  // namespace

std::vector<v1::FieldError> ApplyErrorsOf(const absl::Status& status) {
  std::vector<v1::FieldError> errors;
  auto payload = status.GetPayload(kApplyErrorsPayload);
  v1::ApplyErrors details;
  if (payload && details.ParseFromString(std::string(*payload))) {
    errors.assign(details.errors().begin(), details.errors().end());
  }
  return errors;
}

std::string Registry::NewUid() const {
  thread_local std::mt19937_64 generator(std::random_device{}());
  uint64_t high = generator(), low = generator();
  // RFC 4122 version 4, variant 1.
  high = (high & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;
  low = (low & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;
  return absl::StrFormat("%08x-%04x-%04x-%04x-%012x", high >> 32, (high >> 16) & 0xffff, high & 0xffff, low >> 48,
                         low & 0xffffffffffffULL);
}

void Registry::Apply(std::vector<v1::Object> objects, bool dry_run, Done<v1::ApplyResponse> done) {
  if (objects.size() > kMaxApplyObjects) {
    return done(absl::ResourceExhaustedError(
        absl::StrCat("an apply may hold at most ", kMaxApplyObjects, " objects, not ", objects.size(), "; split it")));
  }
  for (v1::Object& object : objects) {
    // A newer client's fields are dropped, not stored unseen by every check.
    DropUnknownFields(&object);
    FillTypeMeta(&object);
  }
  ApplyAttempt(std::move(objects), dry_run, 0, std::move(done));
}

void Registry::ApplyAttempt(std::vector<v1::Object> objects, bool dry_run, int attempt, Done<v1::ApplyResponse> done) {
  // Everything validation reads is read at this revision or later; the transaction's guards fail if
  // any of it changed after this revision, and the next attempt checks again.
  int64_t read_at = store_.Revision();
  std::vector<FieldError> errors = ValidateApply(objects, this);
  for (FieldError& refused : policy_.Check(objects)) errors.push_back(std::move(refused));
  if (!errors.empty()) return done(ValidationFailed(errors));
  auto response = std::make_shared<v1::ApplyResponse>();
  std::vector<Mutation> mutations;
  std::string now = FormatTimestamp(clock_.Now());
  for (const v1::Object& input : objects) {
    if (absl::Status prepared = PrepareApply(input, dry_run, now, response.get(), &mutations); !prepared.ok()) {
      return done(prepared);
    }
  }
  response->set_revision(store_.Revision());
  if (dry_run || mutations.empty()) return done(*response);
  Transaction transaction{std::move(mutations), ApplyGuards(objects, *this, read_at)};
  store_.Commit(std::move(transaction), [this, objects = std::move(objects), dry_run, attempt, response,
                                         done = std::move(done)](absl::StatusOr<int64_t> revision) mutable {
    // A concurrent writer got in between reading and committing: read and check again (a version the
    // user pinned is compared again then), off the store's writer thread.
    if (RetryOnConflict(revision, true, attempt, kMaxGuardedRetries, [this, objects, dry_run, attempt, done] {
          ApplyAttempt(objects, dry_run, attempt + 1, done);
        })) {
      return;
    }
    if (!revision.ok()) return done(revision.status());
    response->set_revision(*revision);
    for (v1::ApplyResult& result : *response->mutable_results()) {
      if (result.action() != "unchanged") result.set_resource_version(*revision);
    }
    done(*response);
  });
}

// One object of an apply: its result (created, configured or unchanged) into `response`, and the
// write it needs into `mutations`.
absl::Status Registry::PrepareApply(const v1::Object& input, bool dry_run, const std::string& now,
                                    v1::ApplyResponse* response, std::vector<Mutation>* mutations) {
  std::string key = StoreKey(input);
  absl::StatusOr<KeyValue> existing = store_.Get(key);
  const v1::ObjectMeta& given = MetaOf(input);
  int64_t current_version = existing.ok() ? existing->mod_revision : 0;
  if (given.resource_version() != 0 && given.resource_version() != current_version) {
    return absl::AbortedError(absl::StrCat("conflict: ", DisplayName(input), " is at resourceVersion ", current_version,
                                           ", not ", given.resource_version(),
                                           "; get it again, reapply your change, or drop resourceVersion"));
  }
  v1::Object stored = input;
  v1::ObjectMeta* meta = MutableMetaOf(&stored);
  // What opctl itself sets is never taken from a manifest.
  meta->clear_deletion_timestamp();
  meta->clear_finalizers();
  meta->clear_owner_references();
  std::string action;
  if (!existing.ok()) {
    action = "created";
    meta->set_uid(NewUid());
    meta->set_creation_timestamp(now);
    meta->set_generation(1);
    MutableStatusOf(&stored)->Clear();
  } else {
    absl::StatusOr<v1::Object> old = DecodeObject(*existing);
    if (!old.ok()) return old.status();
    const v1::ObjectMeta& old_meta = MetaOf(*old);
    if (!old_meta.deletion_timestamp().empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat(DisplayName(input), " is being deleted; apply it again once it is gone"));
    }
    bool spec_changed = !SpecEquals(*old, input);
    action = spec_changed || MetaChanged(old_meta, given) ? "configured" : "unchanged";
    meta->set_uid(old_meta.uid());
    meta->set_creation_timestamp(old_meta.creation_timestamp());
    meta->set_generation(old_meta.generation() + (spec_changed ? 1 : 0));
    *meta->mutable_finalizers() = old_meta.finalizers();
    *meta->mutable_owner_references() = old_meta.owner_references();
    MutableStatusOf(&stored)->CopyFrom(StatusOf(*old));
  }
  v1::ApplyResult* result = response->add_results();
  result->set_kind(KindOf(input));
  result->set_name(given.name());
  result->set_action(action);
  result->set_resource_version(current_version);
  if (dry_run) *result->mutable_object() = stored;
  if (action != "unchanged") mutations->push_back({key, EncodeObject(stored), current_version});
  return absl::OkStatus();
}

bool Registry::RetryOnConflict(const absl::StatusOr<int64_t>& committed, bool may_retry, int attempt, int max_retries,
                               std::function<void()> next) {
  if (!absl::IsAborted(committed.status()) || !may_retry || attempt >= max_retries) return false;
  retries_.Run(std::move(next));
  return true;
}

void Registry::UpdateAttempt(std::string kind, std::string name, int64_t expected, int attempt,
                             std::function<absl::Status(v1::Object&)> change, Done<v1::Object> done) {
  absl::StatusOr<v1::Object> object = Get(kind, name);
  if (!object.ok()) return done(object.status());
  int64_t current = MetaOf(*object).resource_version();
  if (expected != 0 && expected != current) {
    return done(absl::AbortedError(
        absl::StrCat("conflict: ", DisplayName(*object), " is at resourceVersion ", current, ", not ", expected)));
  }
  v1::Object updated = *object;
  if (absl::Status status = change(updated); !status.ok()) return done(status);
  if (MessageDifferencer::Equals(updated, *object)) return done(*object);
  auto result = std::make_shared<v1::Object>(updated);
  std::vector<Mutation> mutations = {{StoreKey(updated), EncodeObject(updated), current}};
  store_.Commit(std::move(mutations), [this, kind = std::move(kind), name = std::move(name), expected, attempt,
                                       change = std::move(change), result,
                                       done = std::move(done)](absl::StatusOr<int64_t> revision) mutable {
    if (RetryOnConflict(
            revision, expected == 0, attempt, kMaxConflictRetries,
            [this, kind, name, attempt, change, done] { UpdateAttempt(kind, name, 0, attempt + 1, change, done); })) {
      return;
    }
    if (!revision.ok()) return done(revision.status());
    MutableMetaOf(result.get())->set_resource_version(*revision);
    done(*result);
  });
}

void Registry::UpdateStatus(const v1::Object& object, int64_t expected_resource_version, StatusGate gate,
                            Done<v1::Object> done) {
  std::string kind = KindOf(object);
  if (kind.empty()) return done(absl::InvalidArgumentError("object.kind is required"));
  if (kind == kKindEvent) return done(absl::InvalidArgumentError("object.kind: an Event has no status to update"));
  auto status = std::make_shared<v1::Object>(object);
  DropUnknownFields(status.get());
  UpdateAttempt(
      kind, MetaOf(object).name(), expected_resource_version, 0,
      [status, gate = std::move(gate)](v1::Object& stored) {
        if (gate) {
          if (absl::Status allowed = gate(stored); !allowed.ok()) return allowed;
        }
        MutableStatusOf(&stored)->CopyFrom(StatusOf(*status));
        std::vector<FieldError> errors = ValidateStatus(stored);
        if (!errors.empty()) return absl::InvalidArgumentError(errors.front().ToString());
        return absl::OkStatus();
      },
      std::move(done));
}

void Registry::Scale(const std::string& name, int replicas, Done<v1::Object> done) {
  UpdateAttempt(
      "Service", name, 0, 0,
      [replicas](v1::Object& service) {
        if (service.service().spec().replicas() == replicas) return absl::OkStatus();
        service.mutable_service()->mutable_spec()->set_replicas(replicas);
        std::vector<FieldError> errors = ValidateReplicas(service.service(), 0);
        if (!errors.empty()) return absl::InvalidArgumentError(errors.front().ToString());
        v1::ObjectMeta* meta = service.mutable_service()->mutable_metadata();
        meta->set_generation(meta->generation() + 1);
        return absl::OkStatus();
      },
      std::move(done));
}

void Registry::Cordon(const std::string& name, bool unschedulable, Done<v1::Object> done) {
  UpdateAttempt(
      "Node", name, 0, 0,
      [unschedulable](v1::Object& node) {
        node.mutable_node()->mutable_spec()->set_unschedulable(unschedulable);
        return absl::OkStatus();
      },
      std::move(done));
}

void Registry::Evict(const std::string& name, Done<v1::Object> done) {
  absl::Time now = clock_.Now();
  UpdateAttempt(
      "Container", name, 0, 0,
      [now](v1::Object& object) {
        v1::Container& container = *object.mutable_container();
        const std::string node = container.spec().node_name();
        if (node.empty()) {
          return absl::FailedPreconditionError(
              absl::StrCat("container/", container.metadata().name(), " is not bound to a node"));
        }
        if (!MovesOnNodeLoss(container)) {
          return absl::FailedPreconditionError(
              absl::StrCat("container/", container.metadata().name(), " stays on node ", node,
                           container.spec().on_node_loss() == "Stay"
                               ? " (spec.onNodeLoss: Stay)"
                               : ", where its volumes are (spec.onNodeLoss: Reschedule would move it)"));
        }
        // Bound still: its node removes it first (NodeEvacuationReconciler unbinds it then).
        if (container.spec().evicting()) return absl::OkStatus();
        container.mutable_spec()->set_evicting(true);
        container.mutable_metadata()->set_generation(container.metadata().generation() + 1);
        SetCondition(container.mutable_status()->mutable_conditions(), kConditionScheduled, true, kReasonEvicted,
                     absl::StrCat("evicted from node ", node, ": waiting for the node to remove it"), now);
        return absl::OkStatus();
      },
      std::move(done));
}

void Registry::Put(v1::Object object, Done<v1::Object> done) {
  FillTypeMeta(&object);
  v1::ObjectMeta* meta = MutableMetaOf(&object);
  int64_t expected = meta->resource_version();
  absl::StatusOr<KeyValue> existing = store_.Get(StoreKey(object));
  if (existing.ok()) {
    absl::StatusOr<v1::Object> old = DecodeObject(*existing);
    if (!old.ok()) return done(old.status());
    meta->set_generation(MetaOf(*old).generation() + (SpecEquals(*old, object) ? 0 : 1));
  } else {
    if (meta->uid().empty()) meta->set_uid(NewUid());
    if (meta->creation_timestamp().empty()) meta->set_creation_timestamp(FormatTimestamp(clock_.Now()));
    meta->set_generation(1);
  }
  auto result = std::make_shared<v1::Object>(object);
  std::vector<Mutation> mutations = {{StoreKey(object), EncodeObject(object), expected}};
  store_.Commit(std::move(mutations), [result, done = std::move(done)](absl::StatusOr<int64_t> revision) {
    if (!revision.ok()) return done(revision.status());
    MutableMetaOf(result.get())->set_resource_version(*revision);
    done(*result);
  });
}

}  // namespace opctl::controller
