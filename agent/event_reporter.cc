#include "agent/event_reporter.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "common/api_names.h"
#include "common/grpc_status.h"
#include "common/periodic.h"

namespace opctl::agent {

EventReporter::EventReporter(std::shared_ptr<grpc::Channel> channel, EventReporterOptions options)
    : stub_(v1::Agent::NewStub(channel)), options_(std::move(options)), pending_(options_.max_pending) {}

EventReporter::~EventReporter() {
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  Flush(absl::Seconds(1)).IgnoreError();  // best effort: the controller may be gone too
}

void EventReporter::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void EventReporter::Record(EventOccurrence occurrence) {
  pending_.Add(EventOf(occurrence, Clock::Real().Now(), kAgentComponent, options_.node_name));
}

absl::Status EventReporter::Flush(absl::Duration timeout) {
  std::vector<v1::Event> events = pending_.Take();
  if (events.empty()) return absl::OkStatus();
  v1::ReportEventsRequest request;
  request.set_node_name(options_.node_name);
  for (v1::Event& event : events) *request.add_events() = std::move(event);
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  v1::ReportEventsResponse response;
  absl::Status sent = FromGrpcStatus(stub_->ReportEvents(&context, request, &response));
  // INVALID_ARGUMENT would be refused again: only what may succeed later is kept.
  if (!sent.ok() && !absl::IsInvalidArgument(sent)) {
    for (const v1::Event& event : request.events()) pending_.Add(event);
  }
  return sent;
}

void EventReporter::Loop() {
  RunPeriodically(mutex_, &stopping_, options_.interval, [this] {
    absl::Status sent = Flush();
    if (!sent.ok() && !failing_)
      options_.logger->Warn("events", absl::StrCat("cannot report events: ", sent.ToString()));
    if (sent.ok() && failing_) options_.logger->Log("events", "reporting events again");
    failing_ = !sent.ok();
  });
}

}  // namespace opctl::agent
