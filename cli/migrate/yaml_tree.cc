#include "cli/migrate/yaml_tree.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace opctl::cli {
namespace {

// Whether YAML 1.1 or 1.2 readers (yaml-cpp, PyYAML, js-yaml) could take `text` for anything but
// this very string: numbers, bools, null, or syntax.
bool NeedsQuotes(const std::string& text) {
  if (text.empty()) return true;
  static const char* const kWords[] = {"true", "false", "yes", "no", "on", "off", "y", "n", "null", "~"};
  std::string lower = absl::AsciiStrToLower(text);
  for (const char* word : kWords) {
    if (lower == word) return true;
  }
  double number;
  if (absl::SimpleAtod(text, &number) || absl::StartsWith(lower, "0x") || absl::StartsWith(lower, "0o") ||
      lower == ".inf" || lower == "-.inf" || lower == ".nan") {
    return true;
  }
  // Sexagesimal (1:30) and other digit-and-colon forms that YAML 1.1 reads as numbers.
  if (absl::StrContains(text, ':') &&
      std::all_of(text.begin(), text.end(), [](char c) { return absl::ascii_isdigit(c) || c == ':' || c == '.'; }))
    return true;
  if (absl::ascii_isspace(text.front()) || absl::ascii_isspace(text.back())) return true;
  if (std::string("-?:,[]{}#&*!|>'\"%@`").find(text.front()) != std::string::npos) return true;
  return absl::StrContains(text, ": ") || absl::StrContains(text, " #") || absl::StrContains(text, "\n") ||
         absl::StrContains(text, "\t") || text.back() == ':';
}

std::string Quoted(const std::string& text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrCat("\\x", absl::Hex(static_cast<unsigned char>(c), absl::kZeroPad2));
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

}  // namespace

YamlTree& YamlTree::operator[](const std::string& key) {
  if (type_ == Type::kNull) type_ = Type::kMap;
  for (auto& [name, value] : children_) {
    if (name == key) return value;
  }
  children_.emplace_back(key, YamlTree());
  return children_.back().second;
}

bool YamlTree::Has(const std::string& key) const {
  return std::any_of(children_.begin(), children_.end(), [&](const auto& child) { return child.first == key; });
}

void YamlTree::Erase(const std::string& key) {
  children_.erase(std::remove_if(children_.begin(), children_.end(), [&](const auto& c) { return c.first == key; }),
                  children_.end());
}

YamlTree& YamlTree::Push(YamlTree item) {
  if (type_ == Type::kNull) type_ = Type::kList;
  children_.emplace_back("", std::move(item));
  return children_.back().second;
}

std::string YamlTree::ScalarText() const {
  switch (type_) {
    case Type::kNull:
      return "null";
    case Type::kPlain:
      return scalar_;
    case Type::kString:
      return NeedsQuotes(scalar_) ? Quoted(scalar_) : scalar_;
    case Type::kList:
      return "[]";
    case Type::kMap:
      return "{}";
  }
  return "";
}

// Scalars and empty collections go on the line of their key.
bool YamlTree::Inline() const { return (type_ != Type::kList && type_ != Type::kMap) || children_.empty(); }

void YamlTree::Write(std::string& out, int indent) const {
  std::string pad(indent, ' ');
  for (const auto& [key, value] : children_) {
    std::string lead = type_ == Type::kList ? pad + "- " : pad + (NeedsQuotes(key) ? Quoted(key) : key) + ":";
    if (value.Inline()) {
      out += lead + (type_ == Type::kList ? "" : " ") + value.ScalarText() + "\n";
    } else if (type_ == Type::kList) {
      // "- " then the item's first line on the same line, the rest indented under it.
      std::string nested;
      value.Write(nested, indent + 2);
      out += lead + nested.substr(indent + 2);
    } else {
      out += lead + "\n";
      value.Write(out, value.type_ == Type::kList ? indent : indent + 2);
    }
  }
}

std::string YamlTree::ToYaml() const {
  if (Inline()) return ScalarText() + "\n";
  std::string out;
  Write(out, 0);
  return out;
}

}  // namespace opctl::cli
