#include "common/message_bounds.h"

#include "absl/strings/str_cat.h"
#include "common/quote.h"

namespace opctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

class BoundsWalk {
 public:
  BoundsWalk(const MessageBounds& bounds, std::vector<BoundViolation>& violations)
      : bounds_(bounds), violations_(violations) {}

  void Walk(const Message& message, const std::string& path) {
    const Reflection* reflection = message.GetReflection();
    std::vector<const FieldDescriptor*> fields;
    reflection->ListFields(message, &fields);
    for (const FieldDescriptor* field : fields) {
      if (Full()) return;
      std::string field_path = path.empty() ? field->json_name() : absl::StrCat(path, ".", field->json_name());
      if (!field->is_repeated()) {
        if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          String(reflection->GetStringReference(message, field, &scratch_), field_path);
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          Walk(reflection->GetMessage(message, field), field_path);
        }
        continue;
      }
      int size = reflection->FieldSize(message, field);
      if (static_cast<size_t>(size) > bounds_.max_entries) {
        Fail(field_path, absl::StrCat("has ", size, " entries; at most ", bounds_.max_entries, " are allowed"));
        continue;
      }
      for (int i = 0; i < size && !Full(); ++i) {
        if (field->is_map()) {
          MapEntry(reflection->GetRepeatedMessage(message, field, i), field_path);
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          String(reflection->GetRepeatedStringReference(message, field, i, &scratch_),
                 absl::StrCat(field_path, "[", i, "]"));
        } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          Walk(reflection->GetRepeatedMessage(message, field, i), absl::StrCat(field_path, "[", i, "]"));
        }
      }
    }
  }

 private:
  bool Full() const { return violations_.size() >= bounds_.max_violations; }

  void Fail(const std::string& path, const std::string& message) { violations_.push_back({path, message}); }

  void String(const std::string& value, const std::string& path) {
    if (value.size() <= bounds_.max_string_bytes) return;
    Fail(path, absl::StrCat(Quote(value), " is too long: at most ", bounds_.max_string_bytes, " bytes"));
  }

  // A map entry is a message of key and value; its path names the key (cut short).
  void MapEntry(const Message& entry, const std::string& path) {
    const FieldDescriptor* key = entry.GetDescriptor()->map_key();
    const FieldDescriptor* value = entry.GetDescriptor()->map_value();
    const Reflection* reflection = entry.GetReflection();
    std::string key_text = key->cpp_type() == FieldDescriptor::CPPTYPE_STRING
                               ? reflection->GetStringReference(entry, key, &scratch_)
                               : std::string();
    if (key_text.size() > bounds_.max_string_bytes) {
      return Fail(path, absl::StrCat("has a key ", Quote(key_text), " that is too long: at most ",
                                     bounds_.max_string_bytes, " bytes"));
    }
    std::string entry_path = absl::StrCat(path, ".", Clip(key_text));
    if (value->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      String(reflection->GetStringReference(entry, value, &scratch_), entry_path);
    } else if (value->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Walk(reflection->GetMessage(entry, value), entry_path);
    }
  }

  const MessageBounds& bounds_;
  std::vector<BoundViolation>& violations_;
  std::string scratch_;
};

}  // namespace

std::vector<BoundViolation> CheckBounds(const Message& message, const std::string& path, const MessageBounds& bounds) {
  std::vector<BoundViolation> violations;
  BoundsWalk(bounds, violations).Walk(message, path);
  return violations;
}

void DropUnknownFields(Message* message) {
  const Reflection* reflection = message->GetReflection();
  reflection->MutableUnknownFields(message)->Clear();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const FieldDescriptor* field : fields) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE || field->is_map()) continue;
    if (!field->is_repeated()) {
      DropUnknownFields(reflection->MutableMessage(message, field));
      continue;
    }
    for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
      DropUnknownFields(reflection->MutableRepeatedMessage(message, field, i));
    }
  }
}

}  // namespace opctl
