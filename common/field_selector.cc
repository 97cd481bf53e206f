#include "common/field_selector.h"

#include <optional>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/api_names.h"
#include "common/object.h"
#include "common/quote.h"

namespace opctl {
namespace {

constexpr const char* kEventFields[] = {"involvedObject.kind", "involvedObject.name", "reason", "type"};

bool IsEventField(absl::string_view field) {
  for (const char* known : kEventFields) {
    if (field == known) return true;
  }
  return false;
}

// The field's value on `object`; nullopt when the object has no such field (an Event field on
// another kind, where a watch of every kind meets it).
std::optional<std::string> ValueOf(const v1::Object& object, const std::string& field) {
  if (field == "metadata.name") return MetaOf(object).name();
  if (!object.has_event()) return std::nullopt;
  const v1::Event& event = object.event();
  if (field == "involvedObject.kind") return event.involved_object().kind();
  if (field == "involvedObject.name") return event.involved_object().name();
  if (field == "reason") return event.reason();
  return event.type();
}

}  // namespace

absl::StatusOr<FieldSelector> FieldSelector::Parse(const std::string& text, const std::string& kind) {
  FieldSelector selector;
  if (text.empty()) return selector;
  if (text.size() > 4096) return absl::InvalidArgumentError("field_selector is longer than 4096 bytes");
  for (absl::string_view term : absl::StrSplit(text, ',')) {
    term = absl::StripAsciiWhitespace(term);
    Term parsed;
    size_t at = term.find("!=");
    size_t skip = 2;
    parsed.equal = at == absl::string_view::npos;
    if (parsed.equal) {
      at = term.find("==");
      if (at == absl::string_view::npos) {
        at = term.find('=');
        skip = 1;
      }
    }
    if (at == absl::string_view::npos || at == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("field_selector: ", Quote(term), " is not FIELD=VALUE or FIELD!=VALUE"));
    }
    parsed.field = std::string(absl::StripAsciiWhitespace(term.substr(0, at)));
    parsed.value = std::string(absl::StripAsciiWhitespace(term.substr(at + skip)));
    bool events = kind.empty() || FindKind(kind) == FindKind(kKindEvent);
    if (parsed.field != "metadata.name" && !(events && IsEventField(parsed.field))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "field_selector: unknown field ", Quote(parsed.field),
          events ? "; known: metadata.name, involvedObject.kind, involvedObject.name, reason, type"
                 : "; known: metadata.name (Events also have involvedObject.kind, involvedObject.name, reason, type)"));
    }
    selector.terms_.push_back(std::move(parsed));
  }
  return selector;
}

bool FieldSelector::Matches(const v1::Object& object) const {
  for (const Term& term : terms_) {
    std::optional<std::string> value = ValueOf(object, term.field);
    if (!value) return false;
    // Kinds compare as kubectl's do: "service" names Service.
    bool same = term.field == "involvedObject.kind" && FindKind(term.value) != nullptr
                    ? FindKind(term.value) == FindKind(*value)
                    : *value == term.value;
    if (same != term.equal) return false;
  }
  return true;
}

}  // namespace opctl
