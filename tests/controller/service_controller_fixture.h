// The service controller's tests' fixture: a real SQLite store, the registry and every controller,
// driven by hand (one pass at a time) or running, on a manual clock.
#pragma once

#include <gtest/gtest.h>

#include <future>

#include "common/conditions.h"
#include "common/object.h"
#include "controller/controllers.h"
#include "controller/node_monitor.h"
#include "controller/store/sqlite_store.h"
#include "tests/controller/test_objects.h"
#include "tests/support/process.h"

namespace opctl::controller {

class ServiceControllerTest : public ::testing::Test {
 protected:
  void Apply(std::vector<v1::Object> objects) {
    std::promise<absl::Status> promise;
    registry_.Apply(objects, false,
                    [&](absl::StatusOr<v1::ApplyResponse> result) { promise.set_value(result.status()); });
    ASSERT_TRUE(promise.get_future().get().ok());
    ASSERT_TRUE(hub_.WaitDispatched(store_->Revision()));  // the controller's index has seen it
  }
  std::vector<std::string> ContainerNames() {
    std::vector<std::string> names;
    for (const v1::Object& object : registry_.ListKind("Container")) names.push_back(MetaOf(object).name());
    return names;
  }
  void AddNode(const v1::Node& node) {
    v1::Object object;
    *object.mutable_node() = node;
    std::promise<absl::Status> promise;
    registry_.Put(object, [&](absl::StatusOr<v1::Object> result) { promise.set_value(result.status()); });
    ASSERT_TRUE(promise.get_future().get().ok());
    ASSERT_TRUE(hub_.WaitDispatched(store_->Revision()));
  }

  // The placement index follows the store through the hub's dispatch thread: passes driven by hand
  // first wait until it has seen every write.
  absl::Status Schedule() {
    if (!hub_.WaitDispatched(store_->Revision())) return absl::DeadlineExceededError("hub behind");
    return controllers_.scheduling().Reconcile(kScheduleKey).status();
  }
  absl::Status Evacuate(const std::string& node) {
    if (!hub_.WaitDispatched(store_->Revision())) return absl::DeadlineExceededError("hub behind");
    return controllers_.evacuation().Reconcile(node).status();
  }

  // `node` turned NotReady for silence at `since`, as the node monitor writes it.
  void MarkSilent(const std::string& node, absl::Time since) {
    v1::Object object = *registry_.Get("Node", node);
    SetCondition(object.mutable_node()->mutable_status()->mutable_conditions(), "Ready", false, kNodeSilentReason,
                 "no heartbeat for 2.5s", since);
    AddNode(object.node());
  }

  std::unique_ptr<SqliteStore> store_ = *SqliteStore::Open(opctl::testing::MakeTempDir("opctl-svc"));
  WatchHub hub_{*store_};
  ManualClock clock_;
  RecordingLogger logger_;
  Registry registry_{*store_, clock_};
  // The loops' retries wait on real time; what the reconcilers write carries the manual clock's.
  Manager manager_{registry_, hub_, Clock::Real(), logger_};
  Controllers controllers_{manager_, registry_, clock_};

  // The container running and ready on its current spec, as its agent reports it.
  void MakeReady(const std::string& name) { ReportPhase(name, "Running"); }
  void ReportPhase(const std::string& name, const std::string& phase) {
    v1::Object container = *registry_.Get("Container", name);
    container.mutable_container()->mutable_status()->set_phase(phase);
    container.mutable_container()->mutable_status()->set_observed_generation(
        container.container().metadata().generation());
    std::promise<absl::Status> promise;
    registry_.UpdateStatus(container, 0,
                           [&](absl::StatusOr<v1::Object> result) { promise.set_value(result.status()); });
    ASSERT_TRUE(promise.get_future().get().ok());
  }
  std::string ImageOf(const std::string& container) {
    return registry_.Get("Container", container)->container().spec().template_().image();
  }

  // One pass over one Service, by hand.
  absl::Status SyncService(const std::string& name) { return controllers_.services().Reconcile(name).status(); }
  // The informers follow the store (the placement index with them); no controller runs.
  absl::Status Follow() { return manager_.Start(); }
  // Every controller runs, as in opctl-controller.
  absl::Status Start() {
    manager_.SetLeading(true);
    return manager_.Start();
  }
};

}  // namespace opctl::controller
