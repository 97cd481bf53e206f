// How `opctl` prints objects: kubectl's tables (default and -o wide), YAML, JSON and names.
// Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::cli {

// The object as JSON with camelCase field names (the manifest's own names), indented.
std::string ToJson(const v1::Object& object);
// Several objects as {"apiVersion":"opctl.io/v1","kind":"List","items":[...]}.
std::string ToJsonList(const std::vector<v1::Object>& objects);
// The same as YAML, ready to apply again.
std::string ToYaml(const v1::Object& object);
// Any message (a part of an object) as YAML, with the manifest's field names.
std::string MessageToYaml(const google::protobuf::Message& message);
// YAML with every map's keys in alphabetical order, as kubectl prints objects: the same text for the
// same object whatever order its maps (labels, env) came in, so two objects can be compared line by line.
std::string ToSortedYaml(const v1::Object& object);

// A table of objects of one kind: a header line and a row each, columns padded to fit.
// What the Containers bound to each node reserve of it (for `get nodes -o wide`).
struct NodeAllocation {
  int64_t memory_bytes = 0;
  int containers = 0;
};
using NodeAllocations = std::map<std::string, NodeAllocation>;  // by node name
NodeAllocations AllocationsOf(const std::vector<v1::Object>& containers);

// `allocations` fills the ALLOCATED and CONTAINERS columns of wide Node tables (may be null).
std::string ToTable(const std::string& kind, const std::vector<v1::Object>& objects, bool wide, absl::Time now,
                    bool with_header = true, const NodeAllocations* allocations = nullptr);
// Column headers and one object's cells (for watches, which print rows as they come).
std::vector<std::string> TableHeader(const std::string& kind, bool wide);
std::vector<std::string> TableRow(const v1::Object& object, bool wide, absl::Time now,
                                  const NodeAllocations* allocations = nullptr);
// Rows padded to the widths of the widest cell in each column.
std::string FormatRows(const std::vector<std::vector<std::string>>& rows);

}  // namespace opctl::cli
