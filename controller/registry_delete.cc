// Registry's deletes: the cascade to owned objects, Volumes deleted with their data (finalizers the
// nodes' agents release), and Networks and Volumes refused while a Service uses them.
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api_names.h"
#include "common/object.h"
#include "controller/registry.h"
#include "controller/stored_object.h"
#include "controller/write_guards.h"

namespace opctl::controller {
namespace {

bool IsOwnedBy(const v1::Object& object, const std::string& uid) {
  for (const v1::OwnerReference& owner : MetaOf(object).owner_references()) {
    if (owner.uid() == uid) return true;
  }
  return false;
}

}  // namespace

void Registry::Delete(const v1::DeleteRequest& request, Done<v1::DeleteResponse> done) {
  DeleteAttempt(request, 0, std::move(done));
}

void Registry::DeleteAttempt(const v1::DeleteRequest& request, int attempt, Done<v1::DeleteResponse> done) {
  int64_t read_at = store_.Revision();  // as in ApplyAttempt: what the checks read is guarded
  absl::StatusOr<v1::Object> object = Get(request.kind(), request.name());
  if (!object.ok()) return done(object.status());
  const v1::ObjectMeta& meta = MetaOf(*object);
  std::string kind = KindOf(*object);
  if (request.expected_resource_version() != 0 && request.expected_resource_version() != meta.resource_version()) {
    return done(
        absl::AbortedError(absl::StrCat("conflict: ", DisplayName(*object), " is at resourceVersion ",
                                        meta.resource_version(), ", not ", request.expected_resource_version())));
  }
  std::vector<Precondition> guards;
  if (absl::Status unused = RefuseWhileUsed(*object, read_at, &guards); !unused.ok()) return done(unused);
  // An object whose finalizers are pending (a Volume's data being removed) stays until they are done:
  // a later plain delete must not cut that short and leave the data behind.
  if (!meta.finalizers().empty() && !meta.deletion_timestamp().empty()) {
    v1::DeleteResponse response;
    response.add_deleted(DisplayName(*object));
    response.set_revision(meta.resource_version());
    return done(response);
  }
  auto retry_or = [&](std::function<void(int64_t)> finish) { return DeleteCommitted(request, attempt, done, finish); };
  if (kind == kKindVolume && request.delete_data() && !ListKind(kKindNode).empty()) {
    return MarkForDataDeletion(*object, std::move(guards),
                               retry_or([name = DisplayName(*object), done](int64_t revision) {
                                 v1::DeleteResponse response;
                                 response.add_deleted(name);
                                 response.set_revision(revision);
                                 done(response);
                               }));
  }
  // A Volume with its data whose nodes never registered: no host holds its data, the object goes at once.
  std::vector<v1::Object> doomed = {*object};
  // Owned objects go in the same transaction: no orphan is ever visible.
  if (kind == kKindService) {
    for (v1::Object& owned : ListKind(kKindContainer)) {
      if (IsOwnedBy(owned, meta.uid())) doomed.push_back(std::move(owned));
    }
  }
  auto names = std::make_shared<std::vector<std::string>>();
  std::vector<Mutation> mutations;
  for (const v1::Object& gone : doomed) {
    names->push_back(DisplayName(gone));
    mutations.push_back({StoreKey(gone), std::nullopt, MetaOf(gone).resource_version()});
  }
  store_.Commit(Transaction{std::move(mutations), std::move(guards)}, retry_or([names, done](int64_t revision) {
                  v1::DeleteResponse response;
                  for (const std::string& name : *names) response.add_deleted(name);
                  response.set_revision(revision);
                  done(response);
                }));
}

// A Network or Volume a Service uses is refused; one a Service starts using meanwhile fails the
// commit (`guards`), and the next attempt refuses.
absl::Status Registry::RefuseWhileUsed(const v1::Object& object, int64_t read_at, std::vector<Precondition>* guards) {
  std::string kind = KindOf(object);
  if (kind != kKindNetwork && kind != kKindVolume) return absl::OkStatus();
  std::vector<std::string> users = UsersOf(ListKind(kKindService), kind, MetaOf(object).name());
  if (!users.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(DisplayName(object), " is used by ", absl::StrJoin(users, ", "),
                                                      "; delete or change those first"));
  }
  guards->push_back({KindPrefix(kKindService), true, read_at});
  return absl::OkStatus();
}

Registry::Done<int64_t> Registry::DeleteCommitted(const v1::DeleteRequest& request, int attempt,
                                                  Done<v1::DeleteResponse> done, std::function<void(int64_t)> finish) {
  return [this, request, attempt, done, finish](absl::StatusOr<int64_t> revision) {
    // A status written meanwhile (an agent's, the service controller's) or a guard that failed: read
    // again and retry, unless the caller pinned a version.
    if (RetryOnConflict(revision, request.expected_resource_version() == 0, attempt, kMaxGuardedRetries,
                        [this, request, attempt, done] { DeleteAttempt(request, attempt + 1, done); })) {
      return;
    }
    if (!revision.ok()) return done(revision.status());
    finish(*revision);
  };
}

// The data lives on the hosts: the Volume is marked with one finalizer per node, and each node's agent
// removes its own copy and releases its own finalizer; the object goes with the last one.
void Registry::MarkForDataDeletion(const v1::Object& volume, std::vector<Precondition> guards,
                                   Done<int64_t> committed) {
  v1::Object marked = volume;
  v1::ObjectMeta* marked_meta = MutableMetaOf(&marked);
  marked_meta->set_deletion_timestamp(FormatTimestamp(clock_.Now()));
  for (const v1::Object& node : ListKind(kKindNode)) {
    marked_meta->add_finalizers(DeleteDataFinalizer(node.node().metadata().name()));
  }
  std::vector<Mutation> mutations = {{StoreKey(marked), EncodeObject(marked), MetaOf(volume).resource_version()}};
  store_.Commit(Transaction{std::move(mutations), std::move(guards)}, std::move(committed));
}

void Registry::ReleaseFinalizer(const std::string& kind, const std::string& name, const std::string& finalizer,
                                Done<v1::Object> done) {
  absl::StatusOr<v1::Object> object = Get(kind, name);
  if (!object.ok()) return done(object.status());
  v1::ObjectMeta meta = MetaOf(*object);
  auto kept = std::make_shared<google::protobuf::RepeatedPtrField<std::string>>();
  for (const std::string& existing : meta.finalizers()) {
    if (existing != finalizer) *kept->Add() = existing;
  }
  if (kept->empty() && !meta.deletion_timestamp().empty()) {
    v1::Object gone = *object;
    return DeleteObjects({gone}, [gone, done](absl::StatusOr<int64_t> revision) {
      if (!revision.ok()) return done(revision.status());
      done(gone);
    });
  }
  UpdateAttempt(
      KindOf(*object), name, meta.resource_version(), 0,
      [kept](v1::Object& stored) {
        *MutableMetaOf(&stored)->mutable_finalizers() = *kept;
        return absl::OkStatus();
      },
      std::move(done));
}

void Registry::DeleteObjects(std::vector<v1::Object> objects, Done<int64_t> done) {
  std::vector<Mutation> mutations;
  for (const v1::Object& object : objects) {
    mutations.push_back({StoreKey(object), std::nullopt, MetaOf(object).resource_version()});
  }
  store_.Commit(std::move(mutations), std::move(done));
}

}  // namespace opctl::controller
