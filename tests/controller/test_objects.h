// Objects for controller tests.
#pragma once

#include <string>
#include <vector>

#include "opctl/v1/resources.pb.h"

namespace opctl::controller::testing {

inline v1::Object NetworkObject(const std::string& name, const std::string& subnet) {
  v1::Object object;
  object.mutable_network()->mutable_metadata()->set_name(name);
  object.mutable_network()->mutable_spec()->set_subnet(subnet);
  return object;
}

inline v1::Object ServiceObject(const std::string& name, int replicas, const std::vector<std::string>& addresses = {}) {
  v1::Object object;
  v1::Service* service = object.mutable_service();
  service->mutable_metadata()->set_name(name);
  service->mutable_metadata()->set_stack("test");
  service->mutable_spec()->set_replicas(replicas);
  if (!addresses.empty()) service->mutable_spec()->mutable_network()->set_name("net");
  for (const std::string& address : addresses) service->mutable_spec()->mutable_network()->add_addresses(address);
  service->mutable_spec()->mutable_template_()->set_image("busybox:test");
  return object;
}

inline v1::Node ReadyNode(const std::string& name, int64_t memory_bytes, int64_t milli_cpus,
                          std::map<std::string, std::string> labels = {}) {
  v1::Node node;
  node.mutable_metadata()->set_name(name);
  for (const auto& [key, value] : labels) (*node.mutable_metadata()->mutable_labels())[key] = value;
  node.mutable_status()->mutable_capacity()->set_memory_bytes(memory_bytes);
  node.mutable_status()->mutable_capacity()->set_milli_cpus(milli_cpus);
  v1::Condition* ready = node.mutable_status()->add_conditions();
  ready->set_type("Ready");
  ready->set_status("True");
  return node;
}

}  // namespace opctl::controller::testing
