// libFuzzer target: the manifest reader and the validator, on any bytes. Whatever the input, they
// must answer with documents or errors: no crash, no hang, no sanitizer report.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cli/manifest.h"
#include "common/validation.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  opctl::cli::ParsedManifests parsed = opctl::cli::ParseManifests(text, "fuzz.yaml");
  std::vector<opctl::v1::Object> objects;
  for (const opctl::cli::ManifestDocument& document : parsed.documents) objects.push_back(document.object);
  for (const opctl::FieldError& error : opctl::ValidateApply(objects, nullptr)) {
    if (error.document >= 0 && error.document < static_cast<int>(parsed.documents.size())) {
      parsed.documents[error.document].Describe(error);
    }
  }
  return 0;
}
