// Reading compose files: YAML nodes with the file they came from, the messages that point at them,
// compose's interpolation, and the value forms compose accepts (lists or maps, strings or words).
// Pure functions; thread-safe.
#pragma once

#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/migrate/compose_import.h"

namespace opctl::cli::compose {

// A YAML node and the file it came from: what every message points at.
struct Located {
  YAML::Node node;
  const std::string* file = nullptr;
  int Line() const { return node.Mark().line + 1; }
  std::optional<Located> Child(const std::string& key) const {
    if (!node.IsMap() || !node[key]) return std::nullopt;
    return Located{node[key], file};
  }
};

class Reporter {
 public:
  explicit Reporter(ConvertedCompose& out) : out_(out) {}
  void Warn(const Located& at, const std::string& subject, const std::string& message) {
    out_.warnings.push_back(absl::StrCat(*at.file, ":", at.Line(), ": ", subject, ": ", message));
  }
  void Error(const Located& at, const std::string& subject, const std::string& message) {
    out_.errors.push_back(absl::StrCat(*at.file, ":", at.Line(), ": ", subject, ": ", message));
  }
  void Error(const std::string& message) { out_.errors.push_back(message); }
  void Warn(const std::string& message) { out_.warnings.push_back(message); }
  bool failed() const { return !out_.errors.empty(); }

 private:
  ConvertedCompose& out_;
};

// ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, $VAR and $$, as compose interpolates.
// Done on the text, which keeps every line where it was.
std::string Interpolate(const std::string& text, const ComposeFile& file, const ComposeOptions& options,
                        Reporter& report);

// A single value; an error naming `subject` otherwise.
std::optional<std::string> ScalarOf(const Located& at, const std::string& subject, Reporter& report);
// A whole number, 0 or more; an error naming `subject` otherwise.
std::optional<int64_t> IntOf(const Located& at, const std::string& subject, Reporter& report);
// A list of strings, or (split: for command and entrypoint) one string split as a shell would.
std::vector<std::string> WordsOf(const Located& at, const std::string& subject, Reporter& report, bool split);

// Keys in the order they first came, each with its last value.
struct OrderedValues {
  std::map<std::string, std::string> values;
  std::vector<std::string> order;
  void Set(const std::string& key, const std::string& value);
};
// environment and labels: a map, or a list of KEY=VALUE. A key without a value takes the shell's
// value in compose; opctl has no shell at apply time, so it is left out with a warning.
void ReadKeyValues(const Located& at, const std::string& subject, OrderedValues& into, Reporter& report);

// `path` as an absolute path, relative ones (and ~) resolved from the folder of `file`.
std::string Resolve(const std::string& file, const std::string& path);
// The project name compose would pick: the folder's name, lower case, letters, digits, - and _.
std::string ProjectName(const std::string& file);

// Splits a command line the way compose does (shlex): quotes and backslashes, no expansion.
std::vector<std::string> SplitCommandLine(const std::string& line);

}  // namespace opctl::cli::compose
