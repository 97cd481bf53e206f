// What the three exporters share: one stack's objects, the replicas that need a name of their own,
// the names that stand for fixed addresses, quantities in the targets' forms, and warnings.
#pragma once

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "cli/migrate/export.h"

namespace opctl::cli::exporting {

struct Stack {
  std::string name;
  std::vector<const v1::Network*> networks;
  std::vector<const v1::Volume*> volumes;
  std::vector<const v1::Service*> services;
};

// The exportable objects by stack (sorted by name; objects in a kind keep their given order).
std::map<std::string, Stack> GroupByStack(const std::vector<v1::Object>& objects);

// A Service whose replicas differ from one another (fixed addresses, volumes of their own), which
// compose and Swarm can only write as one service per replica, "NAME-ORDINAL".
bool PerReplica(const v1::Service& service);
std::string ReplicaName(const v1::Service& service, int ordinal);
// Every (network, address) a replica of the stack's Services holds -> what stands for it where
// addresses cannot be fixed: `name(service, ordinal)`.
template <typename Namer>
std::map<std::string, std::string> AddressNames(const Stack& stack, Namer name) {
  std::map<std::string, std::string> names;
  for (const v1::Service* service : stack.services) {
    std::vector<const v1::ServiceNetwork*> networks = {&service->spec().network()};
    for (const auto& more : service->spec().additional_networks()) networks.push_back(&more);
    for (const v1::ServiceNetwork* network : networks) {
      for (int i = 0; i < network->addresses_size() && i < service->spec().replicas(); ++i) {
        names.emplace(network->addresses(i), name(*service, i));
      }
    }
  }
  return names;
}
// `value` with each IPv4 address in `names` (whole, not a part of a longer number) replaced.
// `replaced`: set when one was.
std::string ReplaceAddresses(const std::string& value, const std::map<std::string, std::string>& names, bool* replaced);

// Memory as compose reads it ("2g", "512m", bytes); CPUs as a decimal ("0.5").
std::string ComposeMemory(const std::string& quantity);
std::string DecimalCpus(const std::string& quantity);
// Seconds in a duration ("1m30s" = 90), rounded up; 0 when empty or unreadable.
int64_t DurationSeconds(const std::string& duration);
// opctl's defaults, written out where the target's differ: unless-stopped, 3 files of 10m.
std::string RestartPolicyOf(const v1::ContainerTemplate& container);
std::string LogMaxSizeOf(const v1::ContainerTemplate& container);
int LogMaxFilesOf(const v1::ContainerTemplate& container);
int64_t PidsLimitOf(const v1::ContainerTemplate& container);  // 0 = none

class Warnings {
 public:
  Warnings(std::vector<std::string>& into, std::string stack) : into_(into), stack_(std::move(stack)) {}
  // "STACK: OBJECT FIELD: message", once however many replicas say it.
  void Add(const std::string& object, const std::string& field, const std::string& message) {
    std::string warning = stack_ + ": " + object + " " + field + ": " + message;
    if (std::find(into_.begin(), into_.end(), warning) == into_.end()) into_.push_back(warning);
  }

 private:
  std::vector<std::string>& into_;
  std::string stack_;
};

}  // namespace opctl::cli::exporting
