// What ListControllers answers: the controllers of this control plane and which one leads. One
// controller on SQLite is alone and leads; on etcd, the Leadership knows its peers from their
// heartbeat relay keys and the leader from the election.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "opctl/v1/controller.pb.h"

namespace opctl::controller {

class ControlPlaneView {
 public:
  virtual ~ControlPlaneView() = default;
  virtual absl::StatusOr<v1::ListControllersResponse> Controllers() const = 0;
};

// A controller alone on its embedded store.
class SingleController : public ControlPlaneView {
 public:
  SingleController(std::string address, std::string store) : address_(std::move(address)), store_(std::move(store)) {}
  absl::StatusOr<v1::ListControllersResponse> Controllers() const override {
    v1::ListControllersResponse response;
    v1::ControllerInfo* self = response.add_controllers();
    self->set_address(address_);
    self->set_leader(true);
    self->set_this_controller(true);
    response.set_store(store_);
    return response;
  }

 private:
  const std::string address_;
  const std::string store_;
};

}  // namespace opctl::controller
