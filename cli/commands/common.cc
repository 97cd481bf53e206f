#include "absl/strings/str_cat.h"
#include "cli/commands/commands.h"
#include "common/quote.h"

namespace opctl::cli {

absl::StatusOr<ObjectReference> ParseReference(const std::vector<std::string>& words) {
  if (words.empty()) return absl::InvalidArgumentError(absl::StrCat("name a kind: ", KnownKindNames()));
  ObjectReference reference;
  std::string kind = words[0];
  if (size_t slash = kind.find('/'); slash != std::string::npos) {
    reference.name = kind.substr(slash + 1);
    kind = kind.substr(0, slash);
    if (words.size() > 1) return absl::InvalidArgumentError("give either KIND/NAME or KIND NAME, not both");
  } else if (words.size() > 1) {
    reference.name = words[1];
    if (words.size() > 2) return absl::InvalidArgumentError(absl::StrCat("unexpected \"", words[2], "\""));
  }
  reference.kind = FindKind(kind);
  if (reference.kind == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat("unknown kind ", Quote(kind), "; known kinds: ", KnownKindNames(),
                                                   " (also plural and short names: svc, net, vol, ctr, no)"));
  }
  return reference;
}

int Fail(CommandContext& context, const std::string& message, int code) {
  context.err << "opctl: " << message << "\n";
  return code;
}

}  // namespace opctl::cli
