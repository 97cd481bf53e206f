// kubectl's --field-selector for the fields opctl knows: metadata.name on every kind and, on Events,
// involvedObject.kind, involvedObject.name, reason and type. "a=b,c!=d" (== as =): every term must
// hold. Immutable after Parse; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "opctl/v1/resources.pb.h"

namespace opctl {

class FieldSelector {
 public:
  // INVALID_ARGUMENT naming the term for an unknown field or a malformed term; `kind` (may be empty:
  // every kind) decides which fields exist.
  static absl::StatusOr<FieldSelector> Parse(const std::string& text, const std::string& kind);

  bool Matches(const v1::Object& object) const;
  bool empty() const { return terms_.empty(); }

 private:
  struct Term {
    std::string field;
    std::string value;
    bool equal = true;
  };
  std::vector<Term> terms_;
};

}  // namespace opctl
