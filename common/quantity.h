// Parsing of the quantities manifests use: memory sizes, CPU counts and durations, written the way
// compose and Kubernetes users write them. Pure functions; thread-safe.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace opctl {

// Memory in bytes. Accepts plain bytes ("1048576"), compose/Docker suffixes that are powers of 1024
// ("b", "k", "m", "g", "t", also "kb", "mb", "gb", "tb", any case: "2g" = 2 GiB, "512m" = 512 MiB),
// Kubernetes binary suffixes ("Ki", "Mi", "Gi", "Ti") and Kubernetes decimal suffixes in upper case
// ("K", "M", "G", "T": "1.5G" = 1.5e9 bytes). Fractions are allowed; the result is rounded down.
// InvalidArgument on anything else, on a negative value or on one above 1 PiB.
absl::StatusOr<int64_t> ParseMemoryBytes(absl::string_view text);

// CPUs in thousandths: "2" = 2000, "0.5" = 500, "500m" = 500. InvalidArgument below 1m or above 1024.
absl::StatusOr<int64_t> ParseMilliCpus(absl::string_view text);

// A Go-style duration: one or more number+unit pairs with units ns, us, ms, s, m, h ("5s", "1m30s",
// "500ms", "1.5h"). InvalidArgument on a bare number, an unknown unit or a negative value.
absl::StatusOr<absl::Duration> ParseDuration(absl::string_view text);

// Formats bytes the short way users read them: 2Gi, 512Mi, 1500000000 stays as bytes when not exact.
std::string FormatMemoryBytes(int64_t bytes);

}  // namespace opctl
