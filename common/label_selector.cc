#include "common/label_selector.h"

#include <algorithm>
#include <cctype>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "common/quote.h"

namespace opctl {
namespace {

// Far above any selector a person writes; watch filters run per commit, so their size is bounded.
constexpr size_t kMaxSelectorLength = 4096;

// A tiny cursor over the selector text; every Read* skips leading blanks.
class Scanner {
 public:
  explicit Scanner(absl::string_view text) : text_(text) {}

  void SkipBlanks() {
    while (position_ < text_.size() && text_[position_] == ' ') ++position_;
  }
  bool AtEnd() {
    SkipBlanks();
    return position_ >= text_.size();
  }
  bool Consume(absl::string_view token) {
    SkipBlanks();
    if (text_.substr(position_, token.size()) != token) return false;
    position_ += token.size();
    return true;
  }
  // Letters, digits and - _ . / (the characters of label keys and values).
  std::string ReadWord() {
    SkipBlanks();
    size_t start = position_;
    while (position_ < text_.size()) {
      char c = text_[position_];
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.' && c != '/') break;
      ++position_;
    }
    return std::string(text_.substr(start, position_ - start));
  }
  size_t position() const { return position_; }

 private:
  absl::string_view text_;
  size_t position_ = 0;
};

}  // namespace

absl::StatusOr<LabelSelector> LabelSelector::Parse(absl::string_view text) {
  LabelSelector selector;
  Scanner scanner(text);
  auto error = [&](absl::string_view what) {
    return absl::InvalidArgumentError(absl::StrCat("label selector ", Quote(text), " at character ",
                                                   scanner.position() + 1, ": ", what,
                                                   " (e.g. app=redis,tier!=cache,env in (a,b),!legacy)"));
  };
  if (text.size() > kMaxSelectorLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("label selector ", Quote(text), " is longer than ", kMaxSelectorLength, " characters"));
  }
  if (scanner.AtEnd()) return selector;
  while (true) {
    Requirement requirement;
    if (scanner.Consume("!")) {
      requirement.op = Operator::kDoesNotExist;
      requirement.key = scanner.ReadWord();
      if (requirement.key.empty()) return error("expected a label key after '!'");
    } else {
      requirement.key = scanner.ReadWord();
      if (requirement.key.empty()) return error("expected a label key");
      if (scanner.Consume("!=")) {
        requirement.op = Operator::kNotEquals;
        requirement.values.push_back(scanner.ReadWord());
      } else if (scanner.Consume("==") || scanner.Consume("=")) {
        requirement.op = Operator::kEquals;
        requirement.values.push_back(scanner.ReadWord());
      } else {
        size_t before = scanner.position();
        std::string word = scanner.ReadWord();
        if (word == "in" || word == "notin") {
          requirement.op = word == "in" ? Operator::kIn : Operator::kNotIn;
          if (!scanner.Consume("(")) return error("expected '(' after in/notin");
          do {
            std::string value = scanner.ReadWord();
            if (value.empty()) return error("expected a value in the set");
            requirement.values.push_back(value);
          } while (scanner.Consume(","));
          if (!scanner.Consume(")")) return error("expected ')' to close the set");
        } else if (word.empty() && scanner.position() == before) {
          requirement.op = Operator::kExists;
        } else {
          return error(absl::StrCat("unexpected ", Quote(word)));
        }
      }
    }
    selector.requirements_.push_back(std::move(requirement));
    if (scanner.AtEnd()) break;
    if (!scanner.Consume(",")) return error("expected ',' between requirements");
  }
  return selector;
}

bool LabelSelector::Matches(const std::map<std::string, std::string>& labels) const {
  for (const Requirement& requirement : requirements_) {
    auto found = labels.find(requirement.key);
    bool present = found != labels.end();
    auto in_values = [&] {
      return present &&
             std::find(requirement.values.begin(), requirement.values.end(), found->second) != requirement.values.end();
    };
    bool ok = false;
    switch (requirement.op) {
      case Operator::kEquals:
      case Operator::kIn:
        ok = in_values();
        break;
      case Operator::kNotEquals:
      case Operator::kNotIn:
        ok = !in_values();
        break;
      case Operator::kExists:
        ok = present;
        break;
      case Operator::kDoesNotExist:
        ok = !present;
        break;
    }
    if (!ok) return false;
  }
  return true;
}

}  // namespace opctl
