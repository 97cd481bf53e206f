// Line-by-line differences between two texts in the unified format of `diff -u` (what `opctl diff`
// prints). Pure functions; thread-safe.
#pragma once

#include <string>

namespace opctl::cli {

// "--- before_name", "+++ after_name", then each hunk ("@@ -l,n +l,n @@") with `context` unchanged
// lines around its changes. Empty when the texts are equal; an empty text stands for a missing file.
std::string UnifiedDiff(const std::string& before, const std::string& after, const std::string& before_name,
                        const std::string& after_name, int context = 3);

}  // namespace opctl::cli
