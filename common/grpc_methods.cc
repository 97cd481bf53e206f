#include "common/grpc_methods.h"

#include "google/protobuf/descriptor.h"

namespace opctl {

bool IsCompiledMethod(const std::string& path) {
  // "/opctl.v1.Controller/Apply" is "opctl.v1.Controller.Apply" in the descriptor pool.
  std::string full = path.size() > 1 && path[0] == '/' ? path.substr(1) : "";
  size_t slash = full.rfind('/');
  if (slash == std::string::npos) return false;
  full[slash] = '.';
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full) != nullptr;
}

}  // namespace opctl
