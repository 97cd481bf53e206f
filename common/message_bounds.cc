#include "common/message_bounds.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "common/quote.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace opctl {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedInputStream;

// Walks the message's wire form with its descriptor: every string and every entry of a list is
// met once, in linear time. (Not by reflection: a map's reflection goes through a second copy of the
// map that protobuf keeps in sync, whose layout in Debian's library disagrees with a
// ThreadSanitizer build of the generated code.)
class BoundsWalk {
 public:
  BoundsWalk(const MessageBounds& bounds, std::vector<BoundViolation>& violations)
      : bounds_(bounds), violations_(violations) {}

  void Walk(absl::string_view bytes, const Descriptor* descriptor, const std::string& path) {
    CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
    std::map<int, size_t> seen;  // entries of each repeated field so far
    while (!Full()) {
      uint32_t tag = input.ReadTag();
      if (tag == 0) return;
      const FieldDescriptor* field = descriptor->FindFieldByNumber(WireFormatLite::GetTagFieldNumber(tag));
      if (WireFormatLite::GetTagWireType(tag) != WireFormatLite::WIRETYPE_LENGTH_DELIMITED || field == nullptr) {
        if (!WireFormatLite::SkipField(&input, tag)) return;
        continue;
      }
      uint32_t length = 0;
      std::string value;
      if (!input.ReadVarint32(&length) || !input.ReadString(&value, static_cast<int>(length))) return;
      std::string field_path = path.empty() ? field->json_name() : absl::StrCat(path, ".", field->json_name());
      size_t index = 0;
      if (field->is_repeated()) {
        index = seen[field->number()]++;
        if (index == bounds_.max_entries) {
          Fail(field_path, absl::StrCat("has more than ", bounds_.max_entries, " entries; at most ",
                                        bounds_.max_entries, " are allowed"));
        }
        if (index >= bounds_.max_entries) continue;
      }
      if (field->is_map()) {
        MapEntry(value, field->message_type(), field_path);
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
        Walk(value, field->message_type(),
             field->is_repeated() ? absl::StrCat(field_path, "[", index, "]") : field_path);
      } else if (field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
        String(value, field->is_repeated() ? absl::StrCat(field_path, "[", index, "]") : field_path);
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

  // A map entry is a message of key (1) and value (2); its path names the key, cut short.
  void MapEntry(absl::string_view bytes, const Descriptor* entry, const std::string& path) {
    CodedInputStream input(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int>(bytes.size()));
    std::string key, value;
    bool has_value = false;
    while (uint32_t tag = input.ReadTag()) {
      int number = WireFormatLite::GetTagFieldNumber(tag);
      if (WireFormatLite::GetTagWireType(tag) == WireFormatLite::WIRETYPE_LENGTH_DELIMITED && number <= 2) {
        uint32_t length = 0;
        std::string* into = number == 1 ? &key : &value;
        if (!input.ReadVarint32(&length) || !input.ReadString(into, static_cast<int>(length))) return;
        has_value |= number == 2;
      } else if (!WireFormatLite::SkipField(&input, tag)) {
        return;
      }
    }
    if (key.size() > bounds_.max_string_bytes) {
      return Fail(path, absl::StrCat("has a key ", Quote(key), " that is too long: at most ", bounds_.max_string_bytes,
                                     " bytes"));
    }
    std::string entry_path = absl::StrCat(path, ".", Clip(key));
    const FieldDescriptor* value_field = entry->map_value();
    if (!has_value) return;
    if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      String(value, entry_path);
    } else if (value_field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Walk(value, value_field->message_type(), entry_path);
    }
  }

  const MessageBounds& bounds_;
  std::vector<BoundViolation>& violations_;
};

}  // namespace

std::vector<BoundViolation> CheckBounds(const Message& message, const std::string& path, const MessageBounds& bounds) {
  std::vector<BoundViolation> violations;
  BoundsWalk(bounds, violations).Walk(message.SerializeAsString(), message.GetDescriptor(), path);
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
