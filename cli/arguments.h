// The command line of `opctl`: positional words and kubectl-style flags (-f x, --filename=x,
// --dry-run, -owide). Immutable after Parse; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace opctl::cli {

struct FlagSpec {
  std::string name;     // long name without "--"
  char short_name = 0;  // 0: none
  bool takes_value = false;
  std::string help;
};

// Every flag opctl knows, for parsing and for --help.
const std::vector<FlagSpec>& AllFlags();

// The first word that is neither a flag nor a flag's value (the verb), or "" when there is none.
std::string FindVerb(const std::vector<std::string>& words);

class Arguments {
 public:
  // INVALID_ARGUMENT names an unknown flag or one missing its value. `verb` picks the meaning of
  // short flags that differ by command, as in kubectl: for "logs", -f is --follow.
  static absl::StatusOr<Arguments> Parse(const std::vector<std::string>& words, const std::string& verb = "");

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given, or `fallback` when there is none or it is empty (a bare --dry-run).
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
};

}  // namespace opctl::cli
