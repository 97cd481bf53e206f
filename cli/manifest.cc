#include "cli/manifest.h"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "common/object.h"

namespace opctl::cli {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr int kMaxDepth = 32;
// yaml-cpp recurses once per level: refuse deeper flow nesting ([[[...) before it parses.
constexpr int kMaxFlowDepth = 64;
// A manifest file is read whole into memory; objects themselves are limited by validation.
constexpr size_t kMaxManifestFileBytes = 4 << 20;

// The deepest [ / { nesting of `text` outside quotes and comments, and the line where it goes past
// `limit` (0 if it never does).
int LineBeyondFlowDepth(const std::string& text, int limit) {
  int depth = 0, line = 1;
  char quote = 0;
  bool comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
      comment = false;
      if (quote == 0) continue;
    }
    if (comment) continue;
    if (quote != 0) {
      if (c == quote) quote = 0;
      continue;
    }
    if (c == '#' && (i == 0 || text[i - 1] == ' ' || text[i - 1] == '\t' || text[i - 1] == '\n')) {
      comment = true;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return line;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return 0;
}

// YAML's line breaks as "\n" only: yaml-cpp 0.7 loops forever on some input with a lone "\r" (found
// by fuzzing; tests/fuzz/corpus/manifest/lone-cr-hang.yaml), and a lone "\r" is a break to YAML.
std::string NormalizeLineBreaks(const std::string& text) {
  std::string normalized;
  normalized.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\r') {
      normalized += text[i];
    } else if (i + 1 >= text.size() || text[i + 1] != '\n') {
      normalized += '\n';
    }
  }
  return normalized;
}

// The line of the first control character YAML does not allow (all but tab and line feed), or 0.
int LineOfControlCharacter(const std::string& text, unsigned char* found) {
  int line = 1;
  for (char c : text) {
    unsigned char byte = static_cast<unsigned char>(c);
    if (c == '\n') ++line;
    if ((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7f) {
      *found = byte;
      return line;
    }
  }
  return 0;
}

// yaml-cpp 0.7's LoadAll never returns on a stream where a document starts with a token it cannot
// consume, such as a lone "," (found by fuzzing): each round yields one more empty document at the
// same place. Walking the documents first with a parser that only notes where each starts finds that.
class DocumentStarts : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}
  YAML::Mark start;
};

// Where the parser stops making progress, if it does. Throws YAML::Exception on a syntax error.
std::optional<YAML::Mark> WhereParsingStalls(const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentStarts starts;
  int previous = -1;
  while (parser.HandleNextDocument(starts)) {
    if (starts.start.pos == previous) return starts.start;
    previous = starts.start.pos;
  }
  return std::nullopt;
}

// A line indented with a tab: YAML allows only spaces there.
bool IndentedWithTab(const std::string& text, int line) {
  std::istringstream lines(text);
  std::string current;
  for (int i = 1; i <= line && std::getline(lines, current); ++i) {
  }
  size_t first = current.find_first_not_of(" \t");
  return current.substr(0, first).find('\t') != std::string::npos;
}

// More values than any object may hold (an object is at most 1 MiB): the walk stops there.
constexpr size_t kMaxValuesPerDocument = 200000;

// Walks one YAML document and the proto schema side by side.
class DocumentReader {
 public:
  DocumentReader(ManifestDocument& document, std::vector<std::string>& errors) : document_(document), errors_(errors) {}

  void Read(const YAML::Node& root) {
    int line = root.Mark().line + 1;
    document_.line = line;
    if (!root.IsMap()) {
      return Fail(line, "", "a document must be a mapping with apiVersion, kind, metadata and spec");
    }
    const YAML::Node api_version = root["apiVersion"];
    const YAML::Node kind = root["kind"];
    const KindInfo* info = kind && kind.IsScalar() ? FindKind(kind.Scalar()) : nullptr;
    const YAML::Node metadata = root["metadata"];
    if (info != nullptr) {
      bool named = metadata && metadata.IsMap() && metadata["name"] && metadata["name"].IsScalar();
      object_name_ = named ? DisplayName(info->kind, metadata["name"].Scalar()) : info->singular;
    }
    if (!api_version || !api_version.IsScalar()) {
      Fail(line, "apiVersion", absl::StrCat("is required (", kApiVersion, ")"));
    } else if (api_version.Scalar() != kApiVersion) {
      Fail(api_version.Mark().line + 1, "apiVersion",
           absl::StrCat("\"", api_version.Scalar(), "\" is not supported; use ", kApiVersion));
    }
    if (!kind || !kind.IsScalar()) {
      return Fail(line, "kind", absl::StrCat("is required; one of ", KnownKindNames()));
    }
    if (info == nullptr || info->kind != kind.Scalar()) {
      return Fail(kind.Mark().line + 1, "kind",
                  absl::StrCat("\"", kind.Scalar(), "\" is not a kind; one of ", KnownKindNames()));
    }
    Message* inner = MutableInner(&document_.object, info->kind);
    ReadMessage(root, inner, "", 0);
    FillTypeMeta(&document_.object);
  }

 private:
  void Fail(int line, const std::string& field, const std::string& message) {
    std::string where = absl::StrCat(document_.file, ":", line, ": ");
    std::string what = object_name_.empty() ? "" : object_name_ + " ";
    errors_.push_back(field.empty() ? absl::StrCat(where, what, message)
                                    : absl::StrCat(where, what, field, ": ", message));
  }

  // Records where `field_path` is set; a key YAML maps twice is an error (yaml-cpp would keep one
  // silently).
  bool FirstTime(const std::string& field_path, int line) {
    auto [it, inserted] = document_.field_lines.emplace(field_path, line);
    if (!inserted) Fail(line, field_path, absl::StrCat("is set twice (first on line ", it->second, ")"));
    return inserted;
  }

  static std::string Join(const std::string& path, const std::string& name) {
    return path.empty() ? name : absl::StrCat(path, ".", name);
  }

  static std::string AllowedFields(const google::protobuf::Descriptor* descriptor) {
    std::vector<std::string> names;
    for (int i = 0; i < descriptor->field_count(); ++i) names.push_back(descriptor->field(i)->json_name());
    return absl::StrJoin(names, ", ");
  }

  void ReadMessage(const YAML::Node& node, Message* message, const std::string& path, int depth) {
    if (depth > kMaxDepth) return Fail(node.Mark().line + 1, path, "is nested too deeply");
    if (!node.IsMap()) {
      return Fail(node.Mark().line + 1, path, "must be a mapping of fields");
    }
    const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        Fail(entry.first.Mark().line + 1, path, "field names must be plain strings");
        continue;
      }
      std::string name = entry.first.Scalar();
      std::string field_path = Join(path, name);
      int line = entry.first.Mark().line + 1;
      if (!FirstTime(field_path, line)) continue;
      if (path.empty() && (name == "apiVersion" || name == "kind")) continue;
      const FieldDescriptor* field = nullptr;
      for (int i = 0; i < descriptor->field_count() && field == nullptr; ++i) {
        if (descriptor->field(i)->json_name() == name) field = descriptor->field(i);
      }
      if (field == nullptr) {
        Fail(line, field_path, absl::StrCat("unknown field; allowed here: ", AllowedFields(descriptor)));
        continue;
      }
      if (entry.second.IsNull()) continue;  // "key:" with no value leaves the field unset
      ReadField(entry.second, message, field, field_path, depth + 1);
    }
  }

  void ReadField(const YAML::Node& node, Message* message, const FieldDescriptor* field, const std::string& path,
                 int depth) {
    const Reflection* reflection = message->GetReflection();
    if (field->is_map()) {
      if (!node.IsMap()) return Fail(node.Mark().line + 1, path, "must be a mapping of strings");
      const FieldDescriptor* key_field = field->message_type()->FindFieldByName("key");
      const FieldDescriptor* value_field = field->message_type()->FindFieldByName("value");
      for (const auto& entry : node) {
        if (!entry.first.IsScalar()) {
          Fail(entry.first.Mark().line + 1, path, "keys must be strings");
          continue;
        }
        std::string entry_path = absl::StrCat(path, ".", entry.first.Scalar());
        if (!FirstTime(entry_path, entry.first.Mark().line + 1)) continue;
        if (!entry.second.IsScalar()) {
          Fail(entry.first.Mark().line + 1, entry_path, "keys and values must be strings");
          continue;
        }
        if (++values_ > kMaxValuesPerDocument) return Fail(entry.first.Mark().line + 1, entry_path, "too many values");
        Message* pair = reflection->AddMessage(message, field);
        pair->GetReflection()->SetString(pair, key_field, entry.first.Scalar());
        pair->GetReflection()->SetString(pair, value_field, entry.second.Scalar());
      }
      return;
    }
    if (field->is_repeated()) {
      // A health check test written as one string runs through the shell, as in compose.
      if (node.IsScalar() && field->name() == "test") {
        reflection->AddString(message, field, "CMD-SHELL");
        reflection->AddString(message, field, node.Scalar());
        return;
      }
      if (!node.IsSequence()) return Fail(node.Mark().line + 1, path, "must be a list");
      for (size_t i = 0; i < node.size(); ++i) {
        std::string item_path = absl::StrCat(path, "[", i, "]");
        document_.field_lines[item_path] = node[i].Mark().line + 1;
        ReadValue(node[i], message, field, item_path, depth);
      }
      return;
    }
    ReadValue(node, message, field, path, depth);
  }

  // One value of a field (one element, for a repeated field).
  void ReadValue(const YAML::Node& node, Message* message, const FieldDescriptor* field, const std::string& path,
                 int depth) {
    // yaml-cpp shares an aliased node, so a small file can name one node a million times (a "billion
    // laughs"): the walk, not the parse, is what must be bounded.
    if (++values_ > kMaxValuesPerDocument) {
      if (values_ == kMaxValuesPerDocument + 1) {
        Fail(node.Mark().line + 1, path,
             absl::StrCat("the document holds more than ", kMaxValuesPerDocument,
                          " values (YAML aliases repeating a large node?); nothing past here is read"));
      }
      return;
    }
    const Reflection* reflection = message->GetReflection();
    int line = node.Mark().line + 1;
    if (field->type() == FieldDescriptor::TYPE_MESSAGE) {
      Message* child =
          field->is_repeated() ? reflection->AddMessage(message, field) : reflection->MutableMessage(message, field);
      return ReadMessage(node, child, path, depth);
    }
    if (!node.IsScalar()) return Fail(line, path, "must be a single value, not a list or mapping");
    const std::string& text = node.Scalar();
    switch (field->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        if (field->is_repeated())
          reflection->AddString(message, field, text);
        else
          reflection->SetString(message, field, text);
        return;
      case FieldDescriptor::CPPTYPE_INT32:
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t value = 0;
        if (!absl::SimpleAtoi(text, &value) ||
            (field->cpp_type() == FieldDescriptor::CPPTYPE_INT32 && (value < INT32_MIN || value > INT32_MAX))) {
          return Fail(line, path, absl::StrCat("\"", text, "\" is not a whole number"));
        }
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_INT32) {
          if (field->is_repeated())
            reflection->AddInt32(message, field, static_cast<int32_t>(value));
          else
            reflection->SetInt32(message, field, static_cast<int32_t>(value));
        } else {
          if (field->is_repeated())
            reflection->AddInt64(message, field, value);
          else
            reflection->SetInt64(message, field, value);
        }
        return;
      }
      case FieldDescriptor::CPPTYPE_BOOL: {
        if (text != "true" && text != "false")
          return Fail(line, path, absl::StrCat("\"", text, "\" is not true or false"));
        reflection->SetBool(message, field, text == "true");
        return;
      }
      default:
        return Fail(line, path, "has a type manifests cannot set");
    }
  }

  ManifestDocument& document_;
  size_t values_ = 0;
  std::vector<std::string>& errors_;
  std::string object_name_;
};

void AppendFile(const std::string& path, std::istream& stream, ParsedManifests& parsed) {
  std::stringstream text;
  text << stream.rdbuf();
  ParsedManifests one = ParseManifests(text.str(), path);
  for (auto& document : one.documents) parsed.documents.push_back(std::move(document));
  for (auto& error : one.errors) parsed.errors.push_back(std::move(error));
}

}  // namespace

int ManifestDocument::LineOf(const std::string& field) const {
  std::string path = field;
  while (!path.empty()) {
    if (auto found = field_lines.find(path); found != field_lines.end()) return found->second;
    size_t cut = path.find_last_of(".[");
    path = cut == std::string::npos ? "" : path.substr(0, cut);
  }
  return line;
}

std::string ManifestDocument::Describe(const FieldError& error) const {
  return absl::StrCat(file, ":", LineOf(error.field), ": ", error.ToString());
}

ParsedManifests ParseManifests(const std::string& raw_text, const std::string& file) {
  ParsedManifests parsed;
  const std::string text = NormalizeLineBreaks(raw_text);
  unsigned char control = 0;
  if (int line = LineOfControlCharacter(text, &control); line != 0) {
    parsed.errors.push_back(
        absl::StrFormat("%s:%d: invalid YAML: control character 0x%02x (YAML allows tab and line "
                        "breaks only)",
                        file, line, control));
    return parsed;
  }
  if (text.size() > kMaxManifestFileBytes) {
    parsed.errors.push_back(absl::StrCat(file, ":1: the file is ", text.size() >> 10,
                                         " KiB; a manifest file may be at most ", kMaxManifestFileBytes >> 20,
                                         " MiB (keep large data in volumes)"));
    return parsed;
  }
  if (int line = LineBeyondFlowDepth(text, kMaxFlowDepth); line != 0) {
    parsed.errors.push_back(
        absl::StrCat(file, ":", line, ": invalid YAML: nested deeper than ", kMaxFlowDepth, " levels of [ and {"));
    return parsed;
  }
  std::vector<YAML::Node> nodes;
  try {
    if (std::optional<YAML::Mark> stalled = WhereParsingStalls(text)) {
      parsed.errors.push_back(absl::StrCat(file, ":", stalled->line + 1, ": invalid YAML: unexpected \"",
                                           text.substr(stalled->pos, 1), "\" where a document should start"));
      return parsed;
    }
    nodes = YAML::LoadAll(text);
  } catch (const YAML::Exception& error) {
    int line = error.mark.line + 1;
    parsed.errors.push_back(
        absl::StrCat(file, ":", line, ": invalid YAML: ", error.msg,
                     IndentedWithTab(text, line) ? " (a tab indents this line; YAML indents with spaces only)" : ""));
    return parsed;
  }
  for (const YAML::Node& node : nodes) {
    if (!node || node.IsNull()) continue;
    ManifestDocument document;
    document.file = file;
    DocumentReader(document, parsed.errors).Read(node);
    parsed.documents.push_back(std::move(document));
  }
  return parsed;
}

ParsedManifests LoadManifests(const std::vector<std::string>& paths) {
  ParsedManifests parsed;
  for (const std::string& path : paths) {
    if (path == "-") {
      AppendFile("-", std::cin, parsed);
      continue;
    }
    std::error_code error;
    if (std::filesystem::is_directory(path, error)) {
      std::vector<std::string> files;
      for (const auto& entry : std::filesystem::directory_iterator(path, error)) {
        std::string extension = entry.path().extension();
        if (entry.is_regular_file() && (extension == ".yaml" || extension == ".yml")) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      if (files.empty()) parsed.errors.push_back(absl::StrCat(path, ": no *.yaml or *.yml files in this directory"));
      for (const std::string& file : files) {
        std::ifstream stream(file);
        AppendFile(file, stream, parsed);
      }
      continue;
    }
    std::ifstream stream(path);
    if (!stream) {
      parsed.errors.push_back(absl::StrCat(path, ": cannot read: ", std::strerror(errno)));
      continue;
    }
    AppendFile(path, stream, parsed);
  }
  return parsed;
}

}  // namespace opctl::cli
