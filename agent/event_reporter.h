// The agent's EventRecorder: folds what the reconciler and the backup scheduler report
// (common/event_fold.h) and sends it to the controller (Agent.ReportEvents) every interval from a
// thread of its own, so a crash loop's restarts cost one small message a second and no reconcile
// ever waits on the controller. A report that fails is folded back into the next (the fold's bound
// holds); what is still folded when the agent stops is sent once more, briefly.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "common/clock.h"
#include "common/event_fold.h"
#include "common/event_recorder.h"
#include "common/logger.h"
#include "grpcpp/grpcpp.h"
#include "opctl/v1/agent.grpc.pb.h"

namespace opctl::agent {

struct EventReporterOptions {
  std::string node_name;
  absl::Duration interval = absl::Seconds(1);
  size_t max_pending = 1000;
  Logger* logger = &Logger::Stderr();  // not owned
};

class EventReporter : public EventRecorder {
 public:
  EventReporter(std::shared_ptr<grpc::Channel> channel, EventReporterOptions options);
  ~EventReporter() override;  // stops, sending what is left

  void Start();
  void Record(EventOccurrence occurrence) override;
  // Sends what is folded now; what fails is folded back. The thread calls it every interval.
  absl::Status Flush(absl::Duration timeout = absl::Seconds(5));

 private:
  void Loop();

  std::unique_ptr<v1::Agent::Stub> stub_;
  const EventReporterOptions options_;
  EventFold pending_;
  absl::Mutex mutex_;
  bool stopping_ ABSL_GUARDED_BY(mutex_) = false;
  std::thread thread_;
  bool failing_ = false;  // the thread's alone: says once that reports fail, once that they work again
};

}  // namespace opctl::agent
