#include "tests/support/every_field.h"

#include "absl/strings/str_cat.h"

namespace opctl::testing {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

void FillScalar(Message* message, const FieldDescriptor* field) {
  const Reflection* reflection = message->GetReflection();
  bool repeated = field->is_repeated();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      repeated ? reflection->AddString(message, field, "x") : reflection->SetString(message, field, "x");
      break;
    case FieldDescriptor::CPPTYPE_INT32:
      repeated ? reflection->AddInt32(message, field, 1) : reflection->SetInt32(message, field, 1);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      repeated ? reflection->AddInt64(message, field, 1) : reflection->SetInt64(message, field, 1);
      break;
    case FieldDescriptor::CPPTYPE_BOOL:
      repeated ? reflection->AddBool(message, field, true) : reflection->SetBool(message, field, true);
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      repeated ? reflection->AddEnumValue(message, field, 1) : reflection->SetEnumValue(message, field, 1);
      break;
    default:
      break;
  }
}

// Walks the strings of `message` in a fixed order; `visit` gets each one's field path and a setter.
template <typename Visit>
void WalkStrings(Message* message, const std::string& path, Visit& visit) {
  const Reflection* reflection = message->GetReflection();
  std::vector<const FieldDescriptor*> fields;
  reflection->ListFields(*message, &fields);
  for (const FieldDescriptor* field : fields) {
    std::string field_path = path.empty() ? field->json_name() : absl::StrCat(path, ".", field->json_name());
    if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      if (field->is_repeated()) {
        for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
          WalkStrings(reflection->MutableRepeatedMessage(message, field, i), absl::StrCat(field_path, "[", i, "]"),
                      visit);
        }
      } else {
        WalkStrings(reflection->MutableMessage(message, field), field_path, visit);
      }
      continue;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_STRING) continue;
    if (field->is_repeated()) {
      for (int i = 0; i < reflection->FieldSize(*message, field); ++i) {
        visit(absl::StrCat(field_path, "[", i, "]"),
              [=](const std::string& value) { reflection->SetRepeatedString(message, field, i, value); });
      }
    } else {
      visit(field_path, [=](const std::string& value) { reflection->SetString(message, field, value); });
    }
  }
}

}  // namespace

void FillEveryField(Message* message) {
  const Reflection* reflection = message->GetReflection();
  const google::protobuf::Descriptor* descriptor = message->GetDescriptor();
  for (int i = 0; i < descriptor->field_count(); ++i) {
    const FieldDescriptor* field = descriptor->field(i);
    if (const google::protobuf::OneofDescriptor* oneof = field->containing_oneof()) {
      const FieldDescriptor* chosen = reflection->GetOneofFieldDescriptor(*message, oneof);
      if (chosen != nullptr && chosen != field) continue;
      if (chosen == nullptr && oneof->field(0) != field) continue;
    }
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
      FillScalar(message, field);
      continue;
    }
    Message* child =
        field->is_repeated() ? reflection->AddMessage(message, field) : reflection->MutableMessage(message, field);
    FillEveryField(child);  // a map entry too: its key and value are fields
  }
}

int CountStrings(const Message& message) {
  std::unique_ptr<Message> copy(message.New());
  copy->CopyFrom(message);
  int count = 0;
  auto visit = [&](const std::string&, auto&&) { ++count; };
  WalkStrings(copy.get(), "", visit);
  return count;
}

bool SetString(Message* message, int index, const std::string& value, std::string* path) {
  int seen = 0;
  bool set = false;
  auto visit = [&](const std::string& field_path, auto&& assign) {
    if (seen++ != index) return;
    assign(value);
    if (path != nullptr) *path = field_path;
    set = true;
  };
  WalkStrings(message, "", visit);
  return set;
}

}  // namespace opctl::testing
