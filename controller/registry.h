// Typed objects over the Store: what the API does to objects (apply, get, list, delete with cascade,
// status updates, scale), independent of gRPC. Validation runs here so every client gets it.
//
// Thread-safe. Reads (registry_reads.cc) answer at once from the store's memory; writes answer through a callback once
// durable (from the store's writer thread), so callers never block on a disk sync.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "common/serial_executor.h"
#include "common/validation.h"
#include "controller/container_policy.h"
#include "controller/store/store.h"
#include "opctl/v1/controller.pb.h"

namespace opctl::controller {

inline constexpr char kApplyErrorsPayload[] = "type.googleapis.com/opctl.v1.ApplyErrors";
// The most objects one List page holds.
inline constexpr size_t kMaxListPage = 10000;

class Registry : public ObjectLookup {
 public:
  template <typename T>
  using Done = std::function<void(absl::StatusOr<T>)>;

  // `policy`: what Services' containers may do beyond the defaults, checked on every apply.
  Registry(Store& store, Clock& clock, ContainerPolicy policy = {})
      : store_(store), clock_(clock), policy_(std::move(policy)) {}

  // NOT_FOUND names the object; INVALID_ARGUMENT for an unknown kind.
  absl::StatusOr<v1::Object> Get(const std::string& kind, const std::string& name) const;
  // Objects of `kind` (empty: every kind) in `stack` (empty: any) matching `selector`, read at one
  // revision. INVALID_ARGUMENT for an unknown kind or a bad selector.
  absl::StatusOr<v1::ListResponse> List(const std::string& kind, const std::string& stack,
                                        const std::string& selector) const;

  // One page of List, as the API serves it: at most `limit` matching objects (0 or more than
  // kMaxListPage: kMaxListPage) after the key `continue_from` (a `continue` an earlier page gave;
  // empty: from the start), those `keep` (may be empty) refuses left out. The response's `continue` is
  // set when more may follow. INVALID_ARGUMENT for a token this list did not give.
  absl::StatusOr<v1::ListResponse> ListPage(const std::string& kind, const std::string& stack,
                                            const std::string& selector, int64_t limit,
                                            const std::string& continue_from,
                                            const std::function<bool(const v1::Object&)>& keep) const;

  // Validates every object against each other and the store, then writes all in one transaction
  // whose conditions are what the checks read, so rules across objects (unique addresses, subnets
  // apart, references) hold against concurrent writers too; a conflict is checked again and retried.
  // INVALID_ARGUMENT carries an ApplyErrors payload (kApplyErrorsPayload; at most 100 errors);
  // RESOURCE_EXHAUSTED for more than kMaxApplyObjects objects; ABORTED when a given
  // metadata.resourceVersion is stale.
  void Apply(std::vector<v1::Object> objects, bool dry_run, Done<v1::ApplyResponse> done);
  // Deletes an object and the objects it owns. FAILED_PRECONDITION while a Network or Volume is
  // used by a Service (a Volume also as one of its replicas' volume-template volumes); that check
  // holds against concurrent applies (it is a condition of the transaction). A Volume deleted with
  // delete_data is marked (deletionTimestamp and one DeleteDataFinalizer per registered node) for
  // each node's agent to remove its data, and goes once ReleaseFinalizer has taken the last one.
  void Delete(const v1::DeleteRequest& request, Done<v1::DeleteResponse> done);
  // Whether a status write may land on the object as stored now (checked on every attempt, so a
  // retry after a conflict is authorised against what it will overwrite).
  using StatusGate = std::function<absl::Status(const v1::Object& stored)>;
  // Replaces the status of the object (kind and name from `object`), nothing else. INVALID_ARGUMENT
  // when the status breaks ValidateStatus's bounds; `gate` (may be empty) refuses with its status.
  void UpdateStatus(const v1::Object& object, int64_t expected_resource_version, StatusGate gate,
                    Done<v1::Object> done);
  void UpdateStatus(const v1::Object& object, int64_t expected_resource_version, Done<v1::Object> done) {
    UpdateStatus(object, expected_resource_version, nullptr, std::move(done));
  }
  // Sets a Service's replicas; INVALID_ARGUMENT when out of range or short of static addresses.
  void Scale(const std::string& name, int replicas, Done<v1::Object> done);
  // Sets a Node's spec.unschedulable.
  void Cordon(const std::string& name, bool unschedulable, Done<v1::Object> done);
  // Evicts a Container that may move (see MovesOnNodeLoss): marks it evicting, so that its node
  // removes it, after which it is unbound and placed again on another node (never on two at once);
  // FAILED_PRECONDITION, saying why, for one that stays or is not bound.
  void Evict(const std::string& name, Done<v1::Object> done);
  // Writes a whole object as in-process controllers do: created when metadata.resourceVersion is 0,
  // else replaced only if still at that version (ABORTED otherwise). Generation follows the spec.
  void Put(v1::Object object, Done<v1::Object> done);
  // Removes `finalizer` from the object; an object being deleted goes once it has none left.
  void ReleaseFinalizer(const std::string& kind, const std::string& name, const std::string& finalizer,
                        Done<v1::Object> done);
  // Deletes objects if still at their resourceVersion (ABORTED otherwise), in one transaction.
  void DeleteObjects(std::vector<v1::Object> objects, Done<int64_t> done);

  // ObjectLookup (for validation).
  std::optional<v1::Object> Find(const std::string& kind, const std::string& name) const override;
  std::vector<v1::Object> ListKind(const std::string& kind) const override;
  // Objects of `kind` whose names start with `name_prefix`: a range of the store, not a scan of the kind.
  std::vector<v1::Object> ListNamePrefix(const std::string& kind, const std::string& name_prefix) const;

  Store& store() { return store_; }
  const ContainerPolicy& policy() const { return policy_; }

 private:
  void ApplyAttempt(std::vector<v1::Object> objects, bool dry_run, int attempt, Done<v1::ApplyResponse> done);
  absl::Status PrepareApply(const v1::Object& input, bool dry_run, const std::string& now, v1::ApplyResponse* response,
                            std::vector<Mutation>* mutations);
  void DeleteAttempt(const v1::DeleteRequest& request, int attempt, Done<v1::DeleteResponse> done);
  absl::Status RefuseWhileUsed(const v1::Object& object, int64_t read_at, std::vector<Precondition>* guards);
  // A delete's commit callback: a conflict retries the delete, success runs `finish`.
  Done<int64_t> DeleteCommitted(const v1::DeleteRequest& request, int attempt, Done<v1::DeleteResponse> done,
                                std::function<void(int64_t)> finish);
  void MarkForDataDeletion(const v1::Object& volume, std::vector<Precondition> guards, Done<int64_t> committed);
  void UpdateAttempt(std::string kind, std::string name, int64_t expected, int attempt,
                     std::function<absl::Status(v1::Object&)> change, Done<v1::Object> done);
  static constexpr int kMaxConflictRetries = 8;
  // Retries of a write whose rules across objects are checked in its transaction: any write of a
  // Service or Network in between (a status too) fails the guard, so allow more.
  static constexpr int kMaxGuardedRetries = 32;
  // In a commit's callback: when `committed` is a conflict (ABORTED), `may_retry` and `attempt` is
  // below `max_retries`, runs `next` (the following attempt: read, check and commit again) off the
  // store's writer thread and returns true; false to finish with `committed` as it is.
  bool RetryOnConflict(const absl::StatusOr<int64_t>& committed, bool may_retry, int attempt, int max_retries,
                       std::function<void()> next);
  std::string NewUid() const;

  Store& store_;
  Clock& clock_;
  const ContainerPolicy policy_;
  SerialExecutor retries_;  // conflict retries run here, never on the store's writer thread
};

// The FieldErrors inside an INVALID_ARGUMENT from Apply (empty for any other status).
std::vector<v1::FieldError> ApplyErrorsOf(const absl::Status& status);

}  // namespace opctl::controller
