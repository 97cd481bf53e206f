// FNV-1a over a sequence of strings: the same value in every process and build (absl::Hash is
// seeded per process), for names and versions that several processes must agree on.
#pragma once

#include <cstdint>

#include "absl/strings/string_view.h"

namespace opctl {

class StableHash {
 public:
  StableHash& Add(absl::string_view part) {
    for (unsigned char c : part) hash_ = (hash_ ^ c) * kPrime;
    hash_ = (hash_ ^ 0xff) * kPrime;  // a separator: ("ab", "c") differs from ("a", "bc")
    return *this;
  }
  uint64_t value() const { return hash_; }

 private:
  static constexpr uint64_t kPrime = 1099511628211ull;
  uint64_t hash_ = 14695981039346656037ull;
};

}  // namespace opctl
