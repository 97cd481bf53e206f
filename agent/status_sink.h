// Where the reconciler reports what it saw: the controller, through gRPC, in the real agent
// (ControllerLink); a recording fake in tests. Its own header, so the link implements it without
// including the reconciler it feeds.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "opctl/v1/resources.pb.h"

namespace opctl::agent {

class StatusSink {
 public:
  virtual ~StatusSink() = default;
  virtual absl::Status UpdateContainerStatus(const std::string& name, const v1::ContainerStatus& status) = 0;
  virtual absl::Status ReleaseFinalizer(const std::string& kind, const std::string& name,
                                        const std::string& finalizer) = 0;
};

}  // namespace opctl::agent
