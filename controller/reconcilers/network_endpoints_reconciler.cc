#include "controller/reconcilers/network_endpoints_reconciler.h"

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api_names.h"
#include "common/conditions.h"
#include "common/ipv4.h"
#include "controller/reconcilers/registry_calls.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl::controller {
namespace {

// The container's address on `network`; empty when it is not attached with one.
std::string AddressOn(const v1::ContainerSpec& spec, const std::string& network) {
  if (spec.network().name() == network) return spec.network().ipv4_address();
  for (const v1::ContainerNetwork& extra : spec.additional_networks()) {
    if (extra.name() == network) return extra.ipv4_address();
  }
  return "";
}

// "host2: network redis-net cannot span hosts from node host2: ..." when the container's node could
// not make or stretch `network`; empty otherwise.
std::string NetworkProblem(const v1::Container& container, const std::string& network) {
  const v1::Condition* ready = FindCondition(container.status().conditions(), kConditionReady);
  if (ready == nullptr || ready->status() == "True" || ready->reason() != kReasonNetworkNotReady) return "";
  if (!absl::StartsWith(ready->message(), absl::StrCat("network ", network, " "))) return "";
  return absl::StrCat(container.spec().node_name(), ": ", ready->message());
}

uint32_t SortKey(const std::string& address) { return ParseIpv4(address).value_or(0); }

}  // namespace

std::vector<std::string> NetworkEndpointsReconciler::NetworksOf(const v1::Container& container) {
  std::vector<std::string> names;
  if (!container.spec().network().name().empty()) names.push_back(container.spec().network().name());
  for (const v1::ContainerNetwork& extra : container.spec().additional_networks()) names.push_back(extra.name());
  return names;
}

int NetworkEndpointsReconciler::VniFor(const v1::Network& network) const {
  if (network.status().vni() != 0) return network.status().vni();
  std::set<int> taken;
  for (const v1::Object& other : registry_.ListKind(kKindNetwork)) taken.insert(other.network().status().vni());
  int vni = kFirstVni;
  while (taken.count(vni) > 0) ++vni;
  return vni;
}

absl::StatusOr<ReconcileResult> NetworkEndpointsReconciler::Reconcile(const std::string& name) {
  absl::StatusOr<v1::Object> found = registry_.Get(kKindNetwork, name);
  if (absl::IsNotFound(found.status())) return ReconcileResult{};
  if (!found.ok()) return found.status();
  std::map<std::string, std::string> node_addresses;
  for (const v1::Object& node : registry_.ListKind(kKindNode)) {
    node_addresses[node.node().metadata().name()] = node.node().status().overlay_address();
  }
  std::vector<v1::NetworkEndpoint> endpoints;
  std::set<std::string> nodes, problems;
  for (const v1::Object& object : registry_.ListKind(kKindContainer)) {
    const v1::Container& container = object.container();
    std::string address = AddressOn(container.spec(), name);
    if (address.empty() || container.spec().node_name().empty()) continue;
    nodes.insert(container.spec().node_name());
    if (std::string problem = NetworkProblem(container, name); !problem.empty()) problems.insert(problem);
    v1::NetworkEndpoint& endpoint = endpoints.emplace_back();
    endpoint.set_container(container.metadata().name());
    endpoint.set_node(container.spec().node_name());
    endpoint.set_address(address);
    endpoint.set_node_address(node_addresses[container.spec().node_name()]);
  }
  std::sort(endpoints.begin(), endpoints.end(),
            [](const auto& a, const auto& b) { return SortKey(a.address()) < SortKey(b.address()); });
  // A Network no container uses yet gets nothing written: its VNI comes with its first endpoint, in
  // the same write, and an apply's Networks stay as applied until then.
  const v1::NetworkStatus& before = found->network().status();
  if (endpoints.empty() && before.vni() == 0 && before.conditions().empty()) return ReconcileResult{};
  v1::Object updated = *found;
  v1::NetworkStatus* status = updated.mutable_network()->mutable_status();
  status->set_observed_generation(found->network().metadata().generation());
  status->set_vni(VniFor(found->network()));
  *status->mutable_endpoints() = {endpoints.begin(), endpoints.end()};
  SetCondition(status->mutable_conditions(), kConditionReady, problems.empty(),
               problems.empty() ? "OnEveryNode" : "NotReadyOnSomeNodes",
               problems.empty() ? absl::StrCat("on ", nodes.size(), " node(s)") : absl::StrJoin(problems, "; "),
               clock_.Now());
  if (google::protobuf::util::MessageDifferencer::Equals(*status, found->network().status())) return ReconcileResult{};
  int64_t version = found->network().metadata().resource_version();
  absl::Status written = Wait<v1::Object>([&](auto done) { registry_.UpdateStatus(updated, version, done); }).status();
  if (!written.ok()) return written;
  return ReconcileResult{};
}

}  // namespace opctl::controller
