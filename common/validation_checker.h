// What the validation rules share (common/validation.cc for one object, apply_validation.cc for the
// rules across objects, report_validation.cc for what agents and controllers report): the patterns,
// the lengths, and the Checker that collects one object's errors. Internal to common/; thread-safe.
#pragma once

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/object.h"
#include "common/quote.h"
#include "common/validation.h"
#include "re2/re2.h"

namespace opctl::validation_internal {

// RE2 matches in time linear in the input and without recursion (std::regex recursed once per
// character and overflowed the stack on long strings); lengths are bounded before any match anyway.
inline const RE2& kDns1123Label = *new RE2("[a-z0-9]([-a-z0-9]*[a-z0-9])?");  // never destroyed: in use until exit
// Docker's own rule for volume names; the seed's volumes (redis_master_data) need '_'.
inline const RE2& kVolumeName = *new RE2("[a-zA-Z0-9][a-zA-Z0-9_.-]*");  // never destroyed: in use until exit
inline const RE2& kLabelName =
    *new RE2("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");                     // never destroyed: in use until exit
inline const RE2& kLabelPrefix = *new RE2("[a-z0-9]([-a-z0-9.]*[a-z0-9])?");  // never destroyed: in use until exit
inline const RE2& kEnvName = *new RE2("[A-Za-z_][A-Za-z0-9_]*");              // never destroyed: in use until exit
inline const RE2& kUser = *new RE2("[A-Za-z0-9_.-]+(:[A-Za-z0-9_.-]+)?");     // never destroyed: in use until exit
inline const RE2& kImage = *new RE2("[a-z0-9][a-z0-9._/:@-]*");               // never destroyed: in use until exit
inline const RE2& kCapability = *new RE2("(CAP_)?[A-Z][A-Z0-9_]*");           // never destroyed: in use until exit
inline const RE2& kNodeName =
    *new RE2("[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?");        // never destroyed: in use until exit
inline const RE2& kEventReason = *new RE2("[A-Z][A-Za-z0-9]*");  // never destroyed: in use until exit
inline constexpr size_t kMaxNameLength = 63;
inline constexpr size_t kMaxLabelPrefixLength = 253;
inline constexpr size_t kMaxImageLength = 255;
inline constexpr size_t kMaxEnvNameLength = 1024;
inline constexpr size_t kMaxUserLength = 256;
inline constexpr size_t kMaxCapabilityLength = 64;
inline constexpr size_t kMaxPathLength = 4096;     // PATH_MAX
inline constexpr size_t kMaxNodeNameLength = 253;  // a DNS name, as a host name may be
// One object, stored and sent whole on every watch: Kubernetes' limit is 1.5 MiB; data belongs in volumes.
inline constexpr size_t kMaxObjectBytes = 1 << 20;

inline bool Matches(const std::string& value, size_t max_length, const RE2& rule) {
  return value.size() <= max_length && RE2::FullMatch(value, rule);
}

// Collects errors for one object; `At` names the field.
class Checker {
 public:
  Checker(int document, std::string object, std::vector<FieldError>& errors)
      : document_(document), object_(std::move(object)), errors_(errors) {}
  Checker(int document, const std::string& kind, const std::string& name, std::vector<FieldError>& errors)
      : Checker(document, DisplayName(kind, name), errors) {}

  void Fail(const std::string& field, const std::string& message) {
    errors_.push_back({document_, object_, field, message});
  }

  void Name(const std::string& field, const std::string& value, bool volume_rule) {
    if (value.empty()) return Fail(field, "is required");
    if (!Matches(value, kMaxNameLength, volume_rule ? kVolumeName : kDns1123Label)) {
      Fail(field, absl::StrCat(Quote(value), " is not a valid name: ",
                               volume_rule ? "letters, digits, '_', '.' and '-', starting with a letter or digit"
                                           : "lower-case letters, digits and '-', starting and ending with a "
                                             "letter or digit (DNS-1123)",
                               ", at most 63 characters"));
    }
  }

  void Labels(const std::string& field, const google::protobuf::Map<std::string, std::string>& labels) {
    for (const auto& [key, value] : labels) {
      std::string path = absl::StrCat(field, ".", Clip(key));
      std::string name = key;
      size_t slash = key.find('/');
      if (slash != std::string::npos) {
        std::string prefix = key.substr(0, slash);
        name = key.substr(slash + 1);
        if (!Matches(prefix, kMaxLabelPrefixLength, kLabelPrefix)) {
          Fail(path, absl::StrCat("label key prefix ", Quote(prefix), " must be a DNS subdomain"));
        }
      }
      if (!Matches(name, kMaxNameLength, kLabelName)) {
        Fail(path, absl::StrCat(Quote(key),
                                " is not a valid label key: letters, digits, '-', '_' and '.', at most 63, "
                                "optionally behind a DNS prefix and '/'"));
      }
      if (!value.empty() && !Matches(value, kMaxNameLength, kLabelName)) {
        Fail(path,
             absl::StrCat(Quote(value), " is not a valid label value: letters, digits, '-', '_' and '.', at most 63"));
      }
    }
  }

  template <typename Parse>
  void Quantity(const std::string& field, const std::string& value, Parse parse) {
    if (value.empty()) return;
    auto parsed = parse(value);
    if (!parsed.ok()) Fail(field, std::string(parsed.status().message()));
  }

  void AbsolutePath(const std::string& field, const std::string& value) {
    if (value.empty()) return Fail(field, "is required");
    if (value[0] != '/') return Fail(field, absl::StrCat(Quote(value), " must be an absolute path"));
    if (value.size() > kMaxPathLength) Fail(field, absl::StrCat("is longer than ", kMaxPathLength, " bytes"));
  }

  void OneOf(const std::string& field, const std::string& value, const std::vector<std::string>& allowed) {
    if (value.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return;
    Fail(field, absl::StrCat(Quote(value), " is not one of: ", absl::StrJoin(allowed, ", ")));
  }

 private:
  int document_;
  std::string object_;
  std::vector<FieldError>& errors_;
};

// Every network a Service attaches to, with the field path of each.
std::vector<std::pair<std::string, const v1::ServiceNetwork*>> NetworksOf(const v1::ServiceSpec& spec);

// ValidateObject; `bounded` tells whether the object kept within the size bounds (only then do the
// rules across objects read it).
std::vector<FieldError> ValidateOne(const v1::Object& object, int document, bool& bounded);

}  // namespace opctl::validation_internal
