// One compose service turned into an opctl Service: the field-by-field mapping of `opctl convert`,
// with a warning for each field left out and an error for each value compose would refuse.
// Thread-safe (reads env_file files).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "cli/migrate/compose_source.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::cli::compose {

struct ServiceSource {
  std::string name;
  std::vector<Located> layers;  // the service in each file that has it, earliest first
};

// What a service may refer to, from the whole project.
struct ServiceContext {
  std::set<std::string> networks;  // top-level network keys
  std::set<std::string> volumes;   // top-level volume keys
  std::string default_network;     // the Network standing for compose's "default"
  std::string project;             // compose's project name, for the image `build:` would tag
};

v1::Service ConvertService(const ServiceSource& source, const ServiceContext& context, Reporter& report);

}  // namespace opctl::cli::compose
