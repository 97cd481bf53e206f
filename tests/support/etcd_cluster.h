// A real etcd cluster for a test (scripts/etcd.sh, Debian's etcd-server): its own directory and free
// loopback ports, TLS from the test CA, removed when the test ends.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "controller/store/etcd_store.h"

namespace opctl::testing {

// ASSERT_TRUE(Ok(cluster->Kill(2))): a failed step says why (scripts/etcd.sh names the member and
// shows its log).
::testing::AssertionResult Ok(const absl::Status& status);

class EtcdCluster {
 public:
  static absl::StatusOr<std::unique_ptr<EtcdCluster>> Start(int members);
  ~EtcdCluster();  // every member killed, the data removed

  int members() const { return members_; }
  const std::string& endpoints() const { return endpoints_; }  // URL,URL,...
  std::string Endpoint(int member) const;                      // member 1..N
  // Store options for this cluster, with the controller's client certificate.
  controller::EtcdStoreOptions StoreOptions() const;
  // opctl-controller's flags for it.
  std::vector<std::string> ControllerFlags() const;

  // scripts/etcd.sh kill/start/stop/cont I.
  absl::Status Kill(int member);
  absl::Status Restart(int member);
  absl::Status Pause(int member);
  absl::Status Resume(int member);

 private:
  EtcdCluster(std::string dir, int base_port, int members)
      : dir_(std::move(dir)), base_port_(base_port), members_(members) {}
  absl::Status Script(const std::vector<std::string>& arguments) const;

  std::string dir_;
  int base_port_;
  int members_;
  std::string endpoints_;
};

}  // namespace opctl::testing
