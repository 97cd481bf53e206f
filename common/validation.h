// Validation of objects a user applies. The same rules run in the CLI (so errors carry file and line)
// and in the controller (so every client gets them). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "opctl/v1/resources.pb.h"

namespace opctl {

inline constexpr int kMaxReplicas = 1000;
inline constexpr int64_t kMinMemoryLimitBytes = 6 * 1024 * 1024;  // Docker refuses less
// More objects than any stack has; an apply over this is refused whole (one transaction must stay
// reasonable for the store and for every watcher, which gets each object as an event).
inline constexpr size_t kMaxApplyObjects = 10000;
// What a status (an agent's or a controller's report) may hold: messages and lists of conditions,
// not data.
inline constexpr size_t kMaxStatusStringBytes = 16 << 10;
inline constexpr size_t kMaxStatusEntries = 1000;

struct FieldError {
  int document = 0;    // index of the object in the apply
  std::string object;  // "service/redis-master"
  std::string field;   // "spec.template.resources.memoryLimit", with JSON (camelCase) names
  std::string message;

  // "service/redis-master spec.template.resources.memoryLimit: <message>"
  std::string ToString() const;
};

// Objects already stored, for checking references and address clashes. nullptr where no store is
// at hand (the CLI): references to objects outside the apply are then left to the controller.
class ObjectLookup {
 public:
  virtual ~ObjectLookup() = default;
  virtual std::optional<v1::Object> Find(const std::string& kind, const std::string& name) const = 0;
  virtual std::vector<v1::Object> ListKind(const std::string& kind) const = 0;
};

// Whether `key` is one of the labels the agent keeps on Docker objects for itself (managed-by, node,
// spec-hash, moves-on-node-loss, helper, ...; agent/container_spec.h): refused in a template's labels.
bool IsReservedLabel(absl::string_view key);

// Every rule on one object alone: size and shape bounds (every string and list; see
// common/message_bounds.h) first, then type meta, names, labels, quantities, CIDRs, ports, paths.
std::vector<FieldError> ValidateObject(const v1::Object& object, int document);

// What an agent's heartbeat may report about its Node: a node name, labels by the label rules,
// capacity not negative, short version and address strings, volume names by Docker's rule.
std::vector<FieldError> ValidateNodeReport(const v1::Node& node);

// What an agent may report of one Event (Agent.ReportEvents; `index` is its place in the request):
// a known involved kind and a name, a CamelCase reason, type Normal or Warning, a count of at least 1,
// RFC 3339 timestamps, and every string short. Field paths start at "events[INDEX]".
std::vector<FieldError> ValidateEventReport(const v1::Event& event, int index);

// The bounds of a status written to `object` (its status part only): size of the object, length of
// each string, entries of each list. Field paths start at "status".
std::vector<FieldError> ValidateStatus(const v1::Object& object);

// ValidateObject on each object, plus the rules across objects: no duplicates in one apply, only
// user-written kinds (Network, Volume, Service), referenced networks and volumes exist in the apply or
// in `stored`, static addresses inside their network's subnet and unique on it.
std::vector<FieldError> ValidateApply(const std::vector<v1::Object>& objects, const ObjectLookup* stored);

// The checks of a changed replica count (scale): range and enough static addresses.
std::vector<FieldError> ValidateReplicas(const v1::Service& service, int document);

}  // namespace opctl
