#include "common/object.h"

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/api_names.h"
#include "common/quantity.h"
#include "common/quote.h"
#include "google/protobuf/empty.pb.h"
#include "google/protobuf/util/message_differencer.h"

namespace opctl {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

const FieldDescriptor* OneofField(const v1::Object& object) {
  const auto* oneof = v1::Object::descriptor()->FindOneofByName("kind");
  return object.GetReflection()->GetOneofFieldDescriptor(object, oneof);
}

const FieldDescriptor* Field(const Message& message, const char* name) {
  return message.GetDescriptor()->FindFieldByName(name);
}

}  // namespace

std::string DeleteDataFinalizer(absl::string_view node) { return absl::StrCat(kDeleteDataFinalizerPrefix, node); }

const std::vector<KindInfo>& AllKinds() {
  static const auto* kinds = new std::vector<KindInfo>{
      {"Network", "network", "networks", "net", v1::Object::kNetworkFieldNumber},
      {"Volume", "volume", "volumes", "vol", v1::Object::kVolumeFieldNumber},
      {"Service", "service", "services", "svc", v1::Object::kServiceFieldNumber},
      {"Container", "container", "containers", "ctr", v1::Object::kContainerFieldNumber},
      {"Node", "node", "nodes", "no", v1::Object::kNodeFieldNumber},
      {"Event", "event", "events", "ev", v1::Object::kEventFieldNumber},
  };
  return *kinds;
}

const KindInfo* FindKind(absl::string_view name) {
  std::string lower = absl::AsciiStrToLower(name);
  for (const KindInfo& info : AllKinds()) {
    if (lower == info.singular || lower == info.plural || lower == info.short_name) return &info;
  }
  return nullptr;
}

std::string KnownKindNames() {
  std::vector<std::string> names;
  for (const KindInfo& info : AllKinds()) names.push_back(info.kind);
  return absl::StrJoin(names, ", ");
}

std::string KindOf(const v1::Object& object) {
  const FieldDescriptor* field = OneofField(object);
  if (field == nullptr) return "";
  for (const KindInfo& info : AllKinds()) {
    if (info.oneof_field == field->number()) return info.kind;
  }
  return "";
}

const Message& Inner(const v1::Object& object) {
  const FieldDescriptor* field = OneofField(object);
  if (field == nullptr) return v1::Service::default_instance();
  return object.GetReflection()->GetMessage(object, field);
}

Message* MutableInner(v1::Object* object, absl::string_view kind) {
  const KindInfo* info = FindKind(kind);
  const FieldDescriptor* field = v1::Object::descriptor()->FindFieldByNumber(info->oneof_field);
  return object->GetReflection()->MutableMessage(object, field);
}

const v1::ObjectMeta& MetaOf(const v1::Object& object) {
  const Message& inner = Inner(object);
  return static_cast<const v1::ObjectMeta&>(inner.GetReflection()->GetMessage(inner, Field(inner, "metadata")));
}

v1::ObjectMeta* MutableMetaOf(v1::Object* object) {
  Message* inner = MutableInner(object, KindOf(*object));
  return static_cast<v1::ObjectMeta*>(inner->GetReflection()->MutableMessage(inner, Field(*inner, "metadata")));
}

// An Event has neither spec nor status: both read as empty, and its status cannot be written.
const Message& SpecOf(const v1::Object& object) {
  const Message& inner = Inner(object);
  const FieldDescriptor* spec = Field(inner, "spec");
  return spec ? inner.GetReflection()->GetMessage(inner, spec) : google::protobuf::Empty::default_instance();
}

const Message& StatusOf(const v1::Object& object) {
  const Message& inner = Inner(object);
  const FieldDescriptor* status = Field(inner, "status");
  return status ? inner.GetReflection()->GetMessage(inner, status) : google::protobuf::Empty::default_instance();
}

Message* MutableStatusOf(v1::Object* object) {
  Message* inner = MutableInner(object, KindOf(*object));
  const FieldDescriptor* status = Field(*inner, "status");
  return status ? inner->GetReflection()->MutableMessage(inner, status) : nullptr;
}

bool SpecEquals(const v1::Object& a, const v1::Object& b) {
  return KindOf(a) == KindOf(b) && google::protobuf::util::MessageDifferencer::Equals(SpecOf(a), SpecOf(b));
}

std::string KindPrefix(absl::string_view kind) { return absl::StrCat(kObjectsPrefix, kind, "/"); }

std::string StoreKey(absl::string_view kind, absl::string_view name) { return absl::StrCat(KindPrefix(kind), name); }

std::string StoreKey(const v1::Object& object) { return StoreKey(KindOf(object), MetaOf(object).name()); }

std::string DisplayName(absl::string_view kind, absl::string_view name) {
  if (name.empty()) return absl::AsciiStrToLower(kind);  // "network", not "network/", for one without a name
  // Valid names are short; a bad one from a request is cut, so no message repeats it whole.
  return absl::StrCat(absl::AsciiStrToLower(kind), "/", Clip(name));
}

std::string DisplayName(const v1::Object& object) { return DisplayName(KindOf(object), MetaOf(object).name()); }

void FillTypeMeta(v1::Object* object) {
  std::string kind = KindOf(*object);
  if (kind.empty()) return;
  Message* inner = MutableInner(object, kind);
  inner->GetReflection()->SetString(inner, Field(*inner, "api_version"), std::string(kApiVersion));
  inner->GetReflection()->SetString(inner, Field(*inner, "kind"), kind);
}

bool MovesOnNodeLoss(const v1::Container& container) {
  if (container.spec().on_node_loss() == "Reschedule") return true;
  if (container.spec().on_node_loss() == "Stay") return false;
  return container.spec().template_().volume_mounts().empty();
}

bool ContainerIsReady(const v1::Container& container) {
  const v1::ContainerStatus& status = container.status();
  const v1::ContainerTemplate& spec = container.spec().template_();
  bool has_check =
      spec.has_healthcheck() && !(spec.healthcheck().test_size() > 0 && spec.healthcheck().test(0) == "NONE");
  // A recreated container is not ready on the strength of its predecessor's status.
  return status.observed_generation() >= container.metadata().generation() && status.phase() == kPhaseRunning &&
         (!has_check || status.health() == "healthy");
}

int64_t MemoryReservationOf(const v1::Container& container) {
  const v1::Resources& resources = container.spec().template_().resources();
  const std::string& memory =
      resources.memory_reservation().empty() ? resources.memory_limit() : resources.memory_reservation();
  absl::StatusOr<int64_t> bytes = ParseMemoryBytes(memory);
  return bytes.ok() && !memory.empty() ? *bytes : 0;
}

}  // namespace opctl
