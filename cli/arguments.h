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
  std::vector<std::string> verbs;  // the verbs that take it; empty: every verb

  bool TakenBy(const std::string& verb) const;
};

// Every flag opctl knows, for parsing and for --help.
const std::vector<FlagSpec>& AllFlags();

// The first word that is neither a flag nor a flag's value (the verb), or "" when there is none.
std::string FindVerb(const std::vector<std::string>& words);

class Arguments {
 public:
  // INVALID_ARGUMENT names an unknown flag, one missing its value, or one `verb` does not take.
  // `verb` picks the meaning of short flags that differ by command, as in kubectl: for "logs", -f
  // is --follow.
  static absl::StatusOr<Arguments> Parse(const std::vector<std::string>& words, const std::string& verb = "");

  bool Has(const std::string& name) const { return values_.count(name) > 0; }
  // The last value given (empty for a bare flag, or for --ca= given to mean "none"), or `fallback`
  // when the flag is absent.
  std::string Get(const std::string& name, const std::string& fallback = "") const;
  // A flag whose value may be left out, as --dry-run[=client]: "" when absent, `bare` when given
  // without a value, else its value.
  std::string Optional(const std::string& name, const std::string& bare) const;
  std::vector<std::string> GetAll(const std::string& name) const;
  const std::vector<std::string>& positional() const { return positional_; }
  // The words after "--", untouched (exec's command).
  const std::vector<std::string>& command() const { return command_; }

 private:
  std::map<std::string, std::vector<std::string>> values_;
  std::vector<std::string> positional_;
  std::vector<std::string> command_;
};

}  // namespace opctl::cli
