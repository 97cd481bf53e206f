// Waiting for Services to become ready: opctl apply --wait, and opctl wait service/NAME....
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/clock.h"
#include "cli/commands/commands.h"
#include "common/api_names.h"
#include "common/conditions.h"
#include "common/quantity.h"

namespace opctl::cli {
namespace {

constexpr absl::Duration kPollInterval = absl::Milliseconds(250);

struct Readiness {
  bool ready = false;
  std::string summary;  // "1 of 2 replicas ready"
  std::string why;      // what holds the rest back, from their containers
  std::string stalled;  // the rollout passed its progress deadline: why (waiting longer is no use)
};

Readiness Check(const v1::Service& service, const std::vector<v1::Container>& containers) {
  Readiness readiness;
  int want = service.spec().replicas();
  int ready = service.status().ready_replicas();
  bool current = service.status().observed_generation() >= service.metadata().generation();
  // Ready counts only once no replica runs an older template (a rollout between two batches is not).
  readiness.ready =
      current && ready >= want && service.status().replicas() == want && service.status().updated_replicas() >= want;
  readiness.summary = absl::StrCat(ready, " of ", want, " replicas ready");
  if (current && service.status().updated_replicas() < want && ready >= want) {
    absl::StrAppend(&readiness.summary, ", ", service.status().updated_replicas(), " updated");
  }
  const v1::Condition* progressing = FindCondition(service.status().conditions(), kConditionProgressing);
  if (current && progressing != nullptr && progressing->reason() == kReasonProgressDeadlineExceeded) {
    readiness.stalled = progressing->message();
  }
  std::vector<std::string> reasons;
  for (const v1::Container& container : containers) {
    const v1::ContainerStatus& status = container.status();
    bool has_check = container.spec().template_().has_healthcheck();
    if (status.phase() == kPhaseRunning && (!has_check || status.health() == "healthy")) continue;
    std::string reason = status.phase().empty() ? "Pending" : status.phase();
    if (!status.health().empty() && status.phase() == kPhaseRunning)
      absl::StrAppend(&reason, ", health ", status.health());
    std::string detail = status.last_error();
    for (const v1::Condition& condition : status.conditions()) {
      if (detail.empty() && condition.status() == "False" && !condition.message().empty()) detail = condition.message();
    }
    if (!detail.empty()) absl::StrAppend(&reason, ": ", detail);
    reasons.push_back(absl::StrCat(container.metadata().name(), " ", reason));
  }
  readiness.why = absl::StrJoin(reasons, "; ");
  return readiness;
}

}  // namespace

int WaitForServices(CommandContext& context, const std::vector<std::string>& services, absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  std::map<std::string, std::string> printed;  // last progress line per service
  while (true) {
    v1::ListRequest list_services;
    list_services.set_kind(kKindService);
    v1::ListResponse service_list;
    grpc::Status status = context.client.List(list_services, &service_list);
    if (!status.ok()) return Fail(context, context.client.Explain(status));
    v1::ListRequest list_containers;
    list_containers.set_kind(kKindContainer);
    v1::ListResponse container_list;
    status = context.client.List(list_containers, &container_list);
    if (!status.ok()) return Fail(context, context.client.Explain(status));

    std::map<std::string, Readiness> pending;
    for (const std::string& name : services) {
      const v1::Service* service = nullptr;
      for (const v1::Object& object : service_list.items()) {
        if (object.service().metadata().name() == name) service = &object.service();
      }
      if (service == nullptr) {
        pending[name] = Readiness{false, "deleted", "the service is gone"};
        continue;
      }
      std::vector<v1::Container> containers;
      for (const v1::Object& object : container_list.items()) {
        if (object.container().spec().service() == name) containers.push_back(object.container());
      }
      Readiness readiness = Check(*service, containers);
      std::string line = readiness.ready ? absl::StrCat("service/", name, " is ready (", readiness.summary, ")")
                                         : absl::StrCat("Waiting for service/", name, ": ", readiness.summary);
      if (printed[name] != line) {
        context.out << line << "\n";
        context.out.flush();
        printed[name] = line;
      }
      if (!readiness.ready) pending[name] = readiness;
    }
    if (pending.empty()) return 0;
    for (const auto& [name, readiness] : pending) {
      if (readiness.stalled.empty()) continue;
      context.err << "not ready: service/" << name << " (" << readiness.summary << ")"
                  << (readiness.why.empty() ? "" : ": " + readiness.why) << "\n";
      return Fail(context, absl::StrCat("service/", name, " exceeded its progress deadline: ", readiness.stalled,
                                        " (opctl rollout undo service/", name, " goes back)"));
    }
    if (absl::Now() >= deadline) {
      for (const auto& [name, readiness] : pending) {
        context.err << "not ready: service/" << name << " (" << readiness.summary << ")"
                    << (readiness.why.empty() ? "" : ": " + readiness.why) << "\n";
      }
      return Fail(context, absl::StrCat("timed out after ", absl::FormatDuration(timeout), " waiting for ",
                                        pending.size(), " service(s)"));
    }
    std::this_thread::sleep_for(absl::ToChronoNanoseconds(kPollInterval));
  }
}

int RunWait(CommandContext& context) {
  std::vector<std::string> services;
  for (const std::string& word : context.arguments.positional()) {
    absl::StatusOr<ObjectReference> reference = ParseReference({word});
    if (!reference.ok()) return Fail(context, std::string(reference.status().message()), 2);
    if (reference->kind->kind != kKindService || reference->name.empty()) {
      return Fail(context, absl::StrCat("wait takes service/NAME, not \"", word, "\""), 2);
    }
    services.push_back(reference->name);
  }
  if (services.empty()) return Fail(context, "wait needs at least one service/NAME", 2);
  absl::StatusOr<absl::Duration> timeout = ParseDuration(context.arguments.Get("timeout", "120s"));
  if (!timeout.ok()) return Fail(context, absl::StrCat("--timeout: ", timeout.status().message()), 2);
  return WaitForServices(context, services, *timeout);
}

}  // namespace opctl::cli
