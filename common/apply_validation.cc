// The rules across the objects of one apply and the stored ones: no duplicates, only kinds people
// write, references that exist (and are not being deleted), static addresses unique on their network,
// subnets apart. O(n log n) in the objects concerned.
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "common/api_names.h"
#include "common/ipv4.h"
#include "common/validation_checker.h"

namespace opctl {
namespace {

using validation_internal::Checker;
using validation_internal::NetworksOf;
using validation_internal::ValidateOne;

// Finds an object in the apply first, then in the store. Indexed by store key, so each lookup costs
// a logarithm, not a scan of the apply.
class Resolver {
 public:
  Resolver(const std::vector<v1::Object>& objects, const ObjectLookup* stored) : objects_(objects), stored_(stored) {
    for (const v1::Object& object : objects) {
      if (!KindOf(object).empty()) applied_.emplace(StoreKey(object), &object);
    }
  }

  // nullopt when absent; `known` false when the answer cannot be known here (no store at hand).
  std::optional<v1::Object> Find(const std::string& kind, const std::string& name, bool& known) const {
    known = true;
    if (auto it = applied_.find(StoreKey(kind, name)); it != applied_.end()) return *it->second;
    if (stored_ == nullptr) {
      known = false;
      return std::nullopt;
    }
    return stored_->Find(kind, name);
  }

  // Objects of `kind` in the apply (in document order), plus stored ones the apply does not replace.
  std::vector<v1::Object> OfKind(const std::string& kind) const {
    std::vector<v1::Object> found;
    for (const v1::Object& object : objects_) {
      if (KindOf(object) == kind) found.push_back(object);
    }
    if (stored_ != nullptr) {
      for (v1::Object& object : stored_->ListKind(kind)) {
        if (!applied_.count(StoreKey(object))) found.push_back(std::move(object));
      }
    }
    return found;
  }

 private:
  const std::vector<v1::Object>& objects_;
  std::map<std::string, const v1::Object*> applied_;  // by store key; the first of duplicates
  const ObjectLookup* stored_;
};

void ValidateNetworkReference(Checker& check, const std::string& service_name, const std::string& path,
                              const v1::ServiceNetwork& attached, const Resolver& resolver,
                              std::map<std::string, std::map<uint32_t, std::string>>& addresses_by_network) {
  if (attached.name().empty()) return;
  bool known = false;
  std::optional<v1::Object> network = resolver.Find(kKindNetwork, attached.name(), known);
  if (!network) {
    if (known) {
      check.Fail(path + ".name", absl::StrCat("network ", Quote(attached.name()),
                                              " does not exist; declare it in the same apply or apply it first"));
    }
    return;
  }
  const v1::NetworkSpec& network_spec = network->network().spec();
  if (attached.addresses().empty()) return;
  absl::StatusOr<Ipv4Subnet> subnet = ParseIpv4Subnet(network_spec.subnet());
  if (!subnet.ok() && !network_spec.subnet().empty()) return;  // the network's own error says why
  if (!subnet.ok()) {
    check.Fail(path + ".addresses", absl::StrCat("static addresses need a subnet on network ", Quote(attached.name())));
    return;
  }
  uint32_t gateway = subnet->first_host();
  if (absl::StatusOr<uint32_t> given = ParseIpv4(network_spec.gateway()); given.ok()) gateway = *given;
  auto& taken = addresses_by_network[attached.name()];
  for (int i = 0; i < attached.addresses_size(); ++i) {
    absl::StatusOr<uint32_t> address = ParseIpv4(attached.addresses(i));
    if (!address.ok()) continue;
    std::string address_path = absl::StrCat(path, ".addresses[", i, "]");
    const std::string& text = attached.addresses(i);
    if (!subnet->Contains(*address)) {
      check.Fail(address_path, absl::StrCat("\"", text, "\" is outside network ", Quote(attached.name()), " (",
                                            network_spec.subnet(), ")"));
    } else if (*address == subnet->network || *address == subnet->broadcast()) {
      check.Fail(address_path,
                 absl::StrCat("\"", text, "\" is the network or broadcast address of ", network_spec.subnet()));
    } else if (*address == gateway) {
      check.Fail(address_path, absl::StrCat("\"", text, "\" is the gateway of network ", Quote(attached.name())));
    } else if (auto [it, inserted] = taken.emplace(*address, service_name); !inserted && it->second != service_name) {
      check.Fail(address_path, absl::StrCat("\"", text, "\" is already used by service/", it->second, " on network ",
                                            Quote(attached.name())));
    }
  }
}

void ValidateReferences(Checker& check, const v1::Service& service, const Resolver& resolver,
                        std::map<std::string, std::map<uint32_t, std::string>>& addresses_by_network) {
  const v1::ServiceSpec& spec = service.spec();
  bool known = false;
  for (int i = 0; i < spec.template_().volume_mounts_size(); ++i) {
    const std::string& name = spec.template_().volume_mounts(i).name();
    if (name.empty()) continue;  // a host path
    std::optional<v1::Object> volume = resolver.Find(kKindVolume, name, known);
    if (!volume && known) {
      check.Fail(
          absl::StrCat("spec.template.volumeMounts[", i, "].name"),
          absl::StrCat("volume ", Quote(name), " does not exist; declare it in the same apply or apply it first"));
    } else if (volume && !volume->volume().metadata().deletion_timestamp().empty()) {
      check.Fail(
          absl::StrCat("spec.template.volumeMounts[", i, "].name"),
          absl::StrCat("volume ", Quote(name), " is being deleted with its data; apply it again once it is gone"));
    }
  }
  for (const auto& [path, network] : NetworksOf(spec)) {
    ValidateNetworkReference(check, service.metadata().name(), path, *network, resolver, addresses_by_network);
  }
}

// Docker refuses a network whose subnet overlaps another's on the same host; say so before applying.
// Checked on the networks being applied, against each other and the stored ones. Subnets are nested
// or apart, so one sweep in address order finds, for every subnet inside another, the one around it:
// O(n log n) in the number of networks.
void ValidateSubnetsApart(const std::vector<v1::Object>& networks, const std::map<std::string, int>& first_document,
                          std::vector<FieldError>& errors) {
  struct Range {
    const v1::Object* network;
    uint64_t first, last;
    int document;  // -1: stored
  };
  std::vector<Range> ranges;
  for (const v1::Object& network : networks) {
    absl::StatusOr<Ipv4Subnet> subnet = ParseIpv4Subnet(network.network().spec().subnet());
    if (!subnet.ok()) continue;
    auto document = first_document.find(StoreKey(network));
    ranges.push_back(
        {&network, subnet->network, subnet->broadcast(), document == first_document.end() ? -1 : document->second});
  }
  // By start, the wider first: the range around another comes before it.
  std::sort(ranges.begin(), ranges.end(),
            [](const Range& a, const Range& b) { return a.first != b.first ? a.first < b.first : a.last > b.last; });
  std::map<const v1::Object*, const v1::Object*> clash_of;  // applied network -> one it overlaps
  const Range* widest = nullptr;                            // of those seen, the one reaching furthest
  for (const Range& range : ranges) {
    if (widest != nullptr && widest->last >= range.first) {
      // A pair within the apply is reported once, on the later document; against a stored one, on the applied.
      const Range* mine = &range;
      const Range* theirs = widest;
      if (mine->document < 0 || (theirs->document >= 0 && theirs->document > mine->document)) std::swap(mine, theirs);
      if (mine->document >= 0) clash_of.emplace(mine->network, theirs->network);
    }
    if (widest == nullptr || range.last > widest->last) widest = &range;
  }
  std::vector<std::pair<int, FieldError>> found;
  for (const auto& [network, clash] : clash_of) {
    int document = first_document.at(StoreKey(*network));
    found.push_back({document,
                     {document, DisplayName(*network), "spec.subnet",
                      absl::StrCat(network->network().spec().subnet(), " overlaps network \"",
                                   clash->network().metadata().name(), "\" (", clash->network().spec().subnet(),
                                   "); Docker refuses overlapping subnets on one host")}});
  }
  std::stable_sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [document, error] : found) errors.push_back(std::move(error));
}

}  // namespace

std::vector<FieldError> ValidateApply(const std::vector<v1::Object>& objects, const ObjectLookup* stored) {
  std::vector<FieldError> errors;
  if (objects.size() > kMaxApplyObjects) {
    errors.push_back(
        {0, "", "",
         absl::StrCat("an apply may hold at most ", kMaxApplyObjects, " objects, not ", objects.size(), "; split it")});
    return errors;
  }
  std::map<std::string, int> first_document;
  // The rules across objects read only objects within the size bounds.
  std::vector<v1::Object> bounded_objects;
  for (int i = 0; i < static_cast<int>(objects.size()); ++i) {
    const v1::Object& object = objects[i];
    bool bounded = false;
    for (FieldError& error : ValidateOne(object, i, bounded)) errors.push_back(std::move(error));
    if (!bounded) continue;
    std::string kind = KindOf(object);
    if (kind == kKindContainer || kind == kKindNode || kind == kKindEvent) {
      errors.push_back({i, DisplayName(object), "kind",
                        kind == kKindContainer ? "Containers are written by the controller; apply a Service instead"
                        : kind == kKindNode    ? "Nodes are registered by their agent; they cannot be applied"
                                               : "Events are written by opctl's controller and agents; they cannot be "
                                                 "applied"});
    }
    auto [it, inserted] = first_document.emplace(StoreKey(object), i);
    if (!inserted) {
      errors.push_back(
          {i, DisplayName(object), "metadata.name",
           absl::StrCat("duplicate: ", DisplayName(object), " is already declared in document ", it->second + 1)});
    }
    bounded_objects.push_back(object);
  }
  Resolver resolver(bounded_objects, stored);
  // Address clashes are checked across the apply and the stored services it does not replace.
  std::map<std::string, std::map<uint32_t, std::string>> addresses_by_network;
  std::vector<v1::Object> services = resolver.OfKind("Service");
  // Stored services claim their addresses first, so the error lands on the object being applied.
  std::stable_partition(services.begin(), services.end(),
                        [&](const v1::Object& service) { return !first_document.count(StoreKey(service)); });
  for (const v1::Object& service : services) {
    auto document = first_document.find(StoreKey(service));
    std::vector<FieldError> ignored;
    Checker check(document == first_document.end() ? -1 : document->second, DisplayName(service),
                  document == first_document.end() ? ignored : errors);
    ValidateReferences(check, service.service(), resolver, addresses_by_network);
  }
  ValidateSubnetsApart(resolver.OfKind("Network"), first_document, errors);
  return errors;
}

}  // namespace opctl
