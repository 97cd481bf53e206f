#include "cli/migrate/compose_source.h"

#include <cctype>
#include <cstdlib>
#include <filesystem>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"

namespace opctl::cli::compose {
namespace {

std::string FolderOf(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  return folder.empty() ? "." : folder.string();
}

}  // namespace

std::string Interpolate(const std::string& text, const ComposeFile& file, const ComposeOptions& options,
                        Reporter& report) {
  std::string out;
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') ++line;
    if (c != '$' || i + 1 == text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name, fallback, mode;
    size_t end = i + 1;
    if (text[end] == '{') {
      size_t close = text.find('}', end);
      if (close == std::string::npos || text.substr(end, close - end).find('\n') != std::string::npos) {
        report.Error(absl::StrCat(file.path, ":", line, ": interpolation: \"${\" is not closed (write $$ for a $)"));
        return text;
      }
      std::string inner = text.substr(end + 1, close - end - 1);
      size_t op = inner.find_first_of(":-?");
      name = inner.substr(0, op);
      if (op != std::string::npos) {
        mode = inner[op] == ':' ? inner.substr(op, 2) : inner.substr(op, 1);
        fallback = inner.substr(op + mode.size());
      }
      end = close + 1;
    } else {
      while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
      name = text.substr(i + 1, end - i - 1);
      if (name.empty()) {
        out += c;
        continue;
      }
    }
    auto found = options.variables.find(name);
    bool set = found != options.variables.end();
    bool empty = !set || found->second.empty();
    if ((mode == ":-" && empty) || (mode == "-" && !set)) {
      out += fallback;
    } else if ((mode == ":?" && empty) || (mode == "?" && !set)) {
      report.Error(absl::StrCat(file.path, ":", line, ": interpolation: ", name, " is required: ", fallback));
    } else if (set) {
      out += found->second;
    } else {
      report.Warn(absl::StrCat(file.path, ":", line, ": interpolation: ", name,
                               " is not set; an empty string is used, as compose does"));
    }
    i = end - 1;
  }
  return out;
}

std::optional<std::string> ScalarOf(const Located& at, const std::string& subject, Reporter& report) {
  if (!at.node.IsScalar()) {
    report.Error(at, subject, "must be a single value");
    return std::nullopt;
  }
  return at.node.Scalar();
}

std::vector<std::string> WordsOf(const Located& at, const std::string& subject, Reporter& report, bool split) {
  std::vector<std::string> words;
  if (at.node.IsScalar() && split) return SplitCommandLine(at.node.Scalar());
  if (!at.node.IsSequence()) {
    report.Error(at, subject, split ? "must be a string or a list of strings" : "must be a list of strings");
    return words;
  }
  for (const YAML::Node& word : at.node) {
    if (!word.IsScalar()) {
      report.Error(Located{word, at.file}, subject, "must hold strings only");
      return {};
    }
    words.push_back(word.Scalar());
  }
  return words;
}

void ReadKeyValues(const Located& at, const std::string& subject, OrderedValues& into, Reporter& report) {
  if (at.node.IsMap()) {
    for (const auto& entry : at.node) {
      std::string key = entry.first.Scalar();
      if (entry.second.IsNull()) {
        report.Warn(Located{entry.first, at.file}, subject,
                    absl::StrCat(key, " has no value (compose takes the shell's); left out"));
        continue;
      }
      if (!entry.second.IsScalar()) {
        report.Error(Located{entry.second, at.file}, subject, absl::StrCat(key, " must be a single value"));
        continue;
      }
      into.Set(key, entry.second.Scalar());
    }
    return;
  }
  for (const std::string& item : WordsOf(at, subject, report, false)) {
    size_t equals = item.find('=');
    if (equals == std::string::npos) {
      report.Warn(at, subject, absl::StrCat(item, " has no value (compose takes the shell's); left out"));
      continue;
    }
    into.Set(item.substr(0, equals), item.substr(equals + 1));
  }
}

std::string Resolve(const std::string& file, const std::string& path) {
  std::filesystem::path resolved(path);
  if (const char* home = std::getenv("HOME"); home != nullptr && !path.empty() && path[0] == '~') {
    resolved = home + path.substr(1);
  }
  if (resolved.is_relative()) resolved = std::filesystem::path(FolderOf(file)) / resolved;
  return std::filesystem::absolute(resolved).lexically_normal().string();
}

std::string ProjectName(const std::string& file) {
  std::string folder = std::filesystem::absolute(FolderOf(file)).lexically_normal().filename().string();
  std::string name;
  for (char c : absl::AsciiStrToLower(folder)) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') name += c;
  }
  return name.empty() ? "default" : name;
}

std::optional<int64_t> IntOf(const Located& at, const std::string& subject, Reporter& report) {
  int64_t value = 0;
  if (!at.node.IsScalar() || !absl::SimpleAtoi(at.node.Scalar(), &value) || value < 0) {
    report.Error(at, subject, "must be a whole number");
    return std::nullopt;
  }
  return value;
}

void OrderedValues::Set(const std::string& key, const std::string& value) {
  if (values.emplace(key, value).second) {
    order.push_back(key);
  } else {
    values[key] = value;
  }
}

std::vector<std::string> SplitCommandLine(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote == '\'') {
      if (c == '\'')
        quote = 0;
      else
        word += c;
    } else if (quote == '"') {
      if (c == '"')
        quote = 0;
      else if (c == '\\' && i + 1 < line.size() && std::string("\"\\$`").find(line[i + 1]) != std::string::npos)
        word += line[++i];
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

}  // namespace opctl::cli::compose
