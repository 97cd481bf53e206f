// A Service's rollouts: the revision history `opctl rollout history` and `undo` read, maxUnavailable,
// and the progress deadline, through the service controller over the real store.
#include "controller/reconcilers/service_rollout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "common/api_names.h"
#include "tests/controller/service_controller_fixture.h"

namespace opctl::controller {
namespace {

class ServiceRolloutTest : public ServiceControllerTest {
 protected:
  void ApplyImage(v1::Object& service, const std::string& image, const std::string& cause) {
    service.mutable_service()->mutable_spec()->mutable_template_()->set_image(image);
    (*service.mutable_service()->mutable_metadata()->mutable_annotations())[kChangeCauseAnnotation] = cause;
    Apply({service});
  }
  v1::ServiceStatus Status() { return registry_.Get("Service", "web")->service().status(); }
  // "revision:image:cause" of each kept revision, oldest first.
  std::vector<std::string> History() {
    std::vector<std::string> kept;
    const v1::ServiceStatus status = Status();
    for (const v1::ServiceRevision& revision : status.revisions()) {
      kept.push_back(
          absl::StrCat(revision.revision(), ":", revision.template_().image(), ":", revision.change_cause()));
    }
    return kept;
  }
  const v1::Condition* Progressing() {
    status_ = Status();
    return FindCondition(status_.conditions(), kConditionProgressing);
  }
  v1::ServiceStatus status_;
};

TEST_F(ServiceRolloutTest, EachTemplateIsARevisionAndOneAppliedAgainBecomesTheNewest) {
  v1::Object service = testing::ServiceObject("web", 1);
  service.mutable_service()->mutable_spec()->mutable_rollout()->set_revision_history_limit(3);
  ApplyImage(service, "busybox:v1", "opctl apply -f v1.yaml");
  ASSERT_TRUE(SyncService("web").ok());
  ApplyImage(service, "busybox:v2", "opctl apply -f v2.yaml");
  ASSERT_TRUE(SyncService("web").ok());
  ASSERT_TRUE(SyncService("web").ok());  // an unchanged template adds nothing
  EXPECT_THAT(History(),
              ::testing::ElementsAre("1:busybox:v1:opctl apply -f v1.yaml", "2:busybox:v2:opctl apply -f v2.yaml"));
  // An undo: revision 1's template comes back as revision 3, and 1 is no longer listed on its own.
  ApplyImage(service, "busybox:v1", "opctl rollout undo service/web --to-revision 1");
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_THAT(History(), ::testing::ElementsAre("2:busybox:v2:opctl apply -f v2.yaml",
                                                "3:busybox:v1:opctl rollout undo service/web --to-revision 1"));
  // Only the last revisionHistoryLimit (3) are kept.
  for (const char* image : {"busybox:v4", "busybox:v5"}) {
    ApplyImage(service, image, "");
    ASSERT_TRUE(SyncService("web").ok());
  }
  EXPECT_THAT(History(), ::testing::ElementsAre("3:busybox:v1:opctl rollout undo service/web --to-revision 1",
                                                "4:busybox:v4:", "5:busybox:v5:"));
}

TEST_F(ServiceRolloutTest, MaxUnavailableReplacesThatManyReadyReplicasAtOnce) {
  v1::Object service = testing::ServiceObject("web", 4);
  service.mutable_service()->mutable_spec()->mutable_rollout()->set_max_unavailable(2);
  Apply({service});
  ASSERT_TRUE(SyncService("web").ok());
  for (const char* name : {"web-0", "web-1", "web-2", "web-3"}) MakeReady(name);
  ApplyImage(service, "busybox:v2", "");
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(ImageOf("web-3"), "busybox:v2");
  EXPECT_EQ(ImageOf("web-2"), "busybox:v2");
  EXPECT_EQ(ImageOf("web-1"), "busybox:test");
  EXPECT_EQ(Status().updated_replicas(), 2);
  MakeReady("web-3");  // one of the two back: one more may go
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(ImageOf("web-1"), "busybox:v2");
  EXPECT_EQ(ImageOf("web-0"), "busybox:test");
}

TEST_F(ServiceRolloutTest, ARolloutWithoutProgressStopsAtItsDeadlineAndGoesOnWhenAReplicaIsReady) {
  v1::Object service = testing::ServiceObject("web", 3);
  service.mutable_service()->mutable_spec()->mutable_rollout()->set_progress_deadline_seconds(60);
  Apply({service});
  ASSERT_TRUE(SyncService("web").ok());
  for (const char* name : {"web-0", "web-1", "web-2"}) MakeReady(name);
  ASSERT_TRUE(SyncService("web").ok());
  ASSERT_NE(Progressing(), nullptr);
  EXPECT_EQ(Progressing()->reason(), kReasonComplete);
  ASSERT_TRUE(Status().revisions(0).completed());

  ApplyImage(service, "busybox:broken", "");
  absl::StatusOr<ReconcileResult> pass = controllers_.services().Reconcile("web");
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->requeue_after, absl::Seconds(60)) << "looked at again when the deadline passes";
  EXPECT_EQ(ImageOf("web-2"), "busybox:broken");
  clock_.Advance(absl::Seconds(61));  // web-2 never becomes ready
  ASSERT_TRUE(SyncService("web").ok());
  ASSERT_EQ(Progressing()->reason(), kReasonProgressDeadlineExceeded);
  EXPECT_EQ(Progressing()->status(), "False");
  EXPECT_THAT(Progressing()->message(), ::testing::HasSubstr("revision 2 made no progress for 1m"));
  // The deadline passed: no other replica is replaced, not even an old one that fails meanwhile
  // (before it, a failed old replica goes at once).
  ReportPhase("web-1", "Exited");
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(ImageOf("web-1"), "busybox:test");
  MakeReady("web-1");
  // The new replica turns ready after all: that is progress, and the rollout goes on.
  MakeReady("web-2");
  ASSERT_TRUE(SyncService("web").ok());
  EXPECT_EQ(ImageOf("web-1"), "busybox:broken");
  EXPECT_EQ(Progressing()->reason(), kReasonReplicasUpdating);
}

TEST_F(ServiceRolloutTest, AReplicaFailingAfterTheRolloutCompletedIsNoStalledRollout) {
  v1::Object service = testing::ServiceObject("web", 1);
  service.mutable_service()->mutable_spec()->mutable_rollout()->set_progress_deadline_seconds(10);
  Apply({service});
  ASSERT_TRUE(SyncService("web").ok());
  MakeReady("web-0");
  ASSERT_TRUE(SyncService("web").ok());
  ReportPhase("web-0", "Exited");
  clock_.Advance(absl::Seconds(30));
  absl::StatusOr<ReconcileResult> pass = controllers_.services().Reconcile("web");
  ASSERT_TRUE(pass.ok());
  EXPECT_EQ(pass->requeue_after, absl::ZeroDuration());
  EXPECT_EQ(Progressing()->reason(), kReasonReplicasUpdating);
}

TEST(RolloutStrategy, DefaultsAreKubernetes) {
  v1::RolloutStrategy none;
  EXPECT_EQ(MaxUnavailable(none), 1);
  EXPECT_EQ(ProgressDeadline(none), absl::Seconds(600));
  EXPECT_EQ(RevisionHistoryLimit(none), 10);
}

}  // namespace
}  // namespace opctl::controller
