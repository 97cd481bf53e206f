// Kubernetes-style label selectors: "a=b,c!=d,e in (x,y),f notin (z),g,!h". Immutable once parsed;
// thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace opctl {

class LabelSelector {
 public:
  enum class Operator { kEquals, kNotEquals, kIn, kNotIn, kExists, kDoesNotExist };
  struct Requirement {
    std::string key;
    Operator op;
    std::vector<std::string> values;
  };

  // Parses a selector; the empty string selects everything. InvalidArgument says where it fails.
  static absl::StatusOr<LabelSelector> Parse(absl::string_view text);

  // True when every requirement holds for the labels.
  bool Matches(const std::map<std::string, std::string>& labels) const;
  template <typename Map>
  bool Matches(const Map& labels) const {
    return Matches(std::map<std::string, std::string>(labels.begin(), labels.end()));
  }

  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace opctl
