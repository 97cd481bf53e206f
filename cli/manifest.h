// Manifests: multi-document YAML files turned into opctl.v1.Objects, remembering the line of every
// field so that errors (ours or the controller's) point at file:line. Unknown fields and wrong types
// are errors, never ignored. Pure functions; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/validation.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::cli {

struct ManifestDocument {
  std::string file;  // as given ("-" for standard input)
  int line = 0;      // 1-based line where the document starts
  v1::Object object;
  std::map<std::string, int> field_lines;  // "spec.template.image" -> 1-based line

  // The line of `field`, or of its nearest recorded parent, or of the document.
  int LineOf(const std::string& field) const;
  // "FILE:LINE: service/x spec.replicas: message"
  std::string Describe(const FieldError& error) const;
};

struct ParsedManifests {
  std::vector<ManifestDocument> documents;
  std::vector<std::string> errors;  // "FILE:LINE: what is wrong", already formatted
};

// Parses YAML text holding one or more documents ("---"). Empty documents are skipped.
ParsedManifests ParseManifests(const std::string& text, const std::string& file);

// Reads each path: a file, a directory (its *.yaml and *.yml files, sorted) or "-" (standard input).
// A path that cannot be read is an error naming it.
ParsedManifests LoadManifests(const std::vector<std::string>& paths);

}  // namespace opctl::cli
