// A small ordered YAML tree for writing files other tools read (compose, stack and Kubernetes files):
// keys stay in the order they were set, so the same input gives the same bytes, and a string that
// YAML would read as something else (a number, a bool, "2.4") is quoted. Not thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace opctl::cli {

class YamlTree {
 public:
  YamlTree() = default;                                                           // null until used as a map or list
  YamlTree(std::string text) : type_(Type::kString), scalar_(std::move(text)) {}  // NOLINT: implicit on purpose
  YamlTree(const char* text) : YamlTree(std::string(text)) {}                     // NOLINT
  YamlTree(int64_t number) : type_(Type::kPlain), scalar_(std::to_string(number)) {}  // NOLINT
  YamlTree(int number) : YamlTree(static_cast<int64_t>(number)) {}                    // NOLINT
  YamlTree(bool value) : type_(Type::kPlain), scalar_(value ? "true" : "false") {}    // NOLINT

  static YamlTree List() { return YamlTree(Type::kList); }
  static YamlTree Map() { return YamlTree(Type::kMap); }
  // A list of strings.
  template <typename Strings>
  static YamlTree ListOf(const Strings& items) {
    YamlTree list = List();
    for (const auto& item : items) list.Push(std::string(item));
    return list;
  }

  // The value under `key`, added (null) when missing; makes a null tree a map.
  YamlTree& operator[](const std::string& key);
  bool Has(const std::string& key) const;
  void Erase(const std::string& key);
  // Appends to a list; makes a null tree a list.
  YamlTree& Push(YamlTree item);
  bool IsNull() const { return type_ == Type::kNull; }
  bool Empty() const { return type_ == Type::kNull || (children_.empty() && scalar_.empty()); }

  // The whole tree as a YAML document (block style, two-space indent), ending in a newline.
  std::string ToYaml() const;

 private:
  enum class Type { kNull, kString, kPlain, kList, kMap };
  explicit YamlTree(Type type) : type_(type) {}
  void Write(std::string& out, int indent) const;
  std::string ScalarText() const;
  bool Inline() const;

  Type type_ = Type::kNull;
  std::string scalar_;
  std::vector<std::pair<std::string, YamlTree>> children_;  // list items have empty keys
};

}  // namespace opctl::cli
