#include "common/version.h"

namespace opctl {

const std::string& OpctlVersion() {
  static const auto* version = new std::string(OPCTL_VERSION);
  return *version;
}

}  // namespace opctl
