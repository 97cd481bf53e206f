// Validation of objects a user applies. The same rules run in the CLI (so errors carry file and line)
// and in the controller (so every client gets them). Pure functions; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "opctl/v1/resources.pb.h"

namespace opctl {

inline constexpr int kMaxReplicas = 1000;
inline constexpr int64_t kMinMemoryLimitBytes = 6 * 1024 * 1024;  // Docker refuses less

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

// Every rule on one object alone: type meta, names, labels, quantities, CIDRs, ports, paths.
std::vector<FieldError> ValidateObject(const v1::Object& object, int document);

// ValidateObject on each object, plus the rules across objects: no duplicates in one apply, only
// user-written kinds (Network, Volume, Service), referenced networks and volumes exist in the apply or
// in `stored`, static addresses inside their network's subnet and unique on it.
std::vector<FieldError> ValidateApply(const std::vector<v1::Object>& objects, const ObjectLookup* stored);

// The checks of a changed replica count (scale): range and enough static addresses.
std::vector<FieldError> ValidateReplicas(const v1::Service& service, int document);

}  // namespace opctl
