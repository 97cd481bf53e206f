// `opctl convert`: docker-compose files (version 2.x, 3.x and the un-versioned Compose Specification)
// turned into opctl objects. Every field that cannot be mapped is a warning naming its file, line and
// field, and the objects still apply; a file compose itself would refuse is an error naming the same.
// Reads only the env_file files the compose files name; thread-safe.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "opctl/v1/resources.pb.h"

namespace opctl::cli {

struct ComposeFile {
  std::string path;  // as given, for messages; relative paths in the file are resolved from its folder
  std::string text;
};

struct ComposeOptions {
  std::string stack;                             // metadata.stack; default: the first file's folder name
  std::map<std::string, std::string> variables;  // for ${VAR} interpolation, as compose takes the shell's
};

struct ConvertedCompose {
  std::vector<v1::Object> objects;    // Networks and Volumes by name, then Services in file order
  std::vector<std::string> warnings;  // "FILE:LINE: service/NAME field: what was left out and why"
  std::vector<std::string> errors;    // same form; `objects` is empty when there is any
};

// Later files override earlier ones, service by service and field by field, as `docker-compose -f a -f b`
// does (environment and labels are merged key by key).
ConvertedCompose ConvertCompose(const std::vector<ComposeFile>& files, const ComposeOptions& options);

}  // namespace opctl::cli
