// Helpers over the kinds of opctl.v1.Object: names, metadata, spec and status reached through
// protobuf reflection so the store, API and CLI handle every kind the same way. Thread-safe.
#pragma once

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "common/api_names.h"
#include "opctl/v1/resources.pb.h"

namespace opctl {

inline constexpr absl::string_view kApiVersion = "opctl.io/v1";
// The label the service controller puts on what it makes for a Service (its Containers and
// per-replica Volumes); the value is the Service's name.
inline constexpr char kServiceLabel[] = "opctl.io/service";

// kDeleteDataFinalizerPrefix + node (common/api_names.h).
std::string DeleteDataFinalizer(absl::string_view node);

struct KindInfo {
  std::string kind;        // "Service"
  std::string singular;    // "service"
  std::string plural;      // "services"
  std::string short_name;  // "svc"
  int oneof_field;         // field number in opctl.v1.Object
};

// Every kind, in the order `get all` and apply use (dependencies first).
const std::vector<KindInfo>& AllKinds();
// Finds a kind by any of its names, case-insensitively; nullptr when unknown.
const KindInfo* FindKind(absl::string_view name);
// "network, volume, service, container, node" for error messages.
std::string KnownKindNames();

// The kind of an object ("Service"); empty when the oneof is unset.
std::string KindOf(const v1::Object& object);
// Whether `container` is moved to another node when its node is lost: as spec.onNodeLoss says, and by
// default unless it mounts a volume (its data is on that node; a copy elsewhere would start empty).
bool MovesOnNodeLoss(const v1::Container& container);
// Running on its current spec (the agent has reported on this generation), and healthy where it has a
// health check.
bool ContainerIsReady(const v1::Container& container);
// The memory `container` reserves on its node: its reservation or, without one, its limit (0: none).
int64_t MemoryReservationOf(const v1::Container& container);
const v1::ObjectMeta& MetaOf(const v1::Object& object);
v1::ObjectMeta* MutableMetaOf(v1::Object* object);

// The message inside the oneof (v1::Service, ...). MutableInner sets the oneof to `kind` first.
const google::protobuf::Message& Inner(const v1::Object& object);
google::protobuf::Message* MutableInner(v1::Object* object, absl::string_view kind);

// An Event's spec and status are empty messages; MutableStatusOf gives nullptr for it.
const google::protobuf::Message& SpecOf(const v1::Object& object);
const google::protobuf::Message& StatusOf(const v1::Object& object);
google::protobuf::Message* MutableStatusOf(v1::Object* object);
bool SpecEquals(const v1::Object& a, const v1::Object& b);

// Store key of an object: "/objects/Service/redis-master". KindPrefix("Service") = "/objects/Service/".
std::string StoreKey(absl::string_view kind, absl::string_view name);
std::string StoreKey(const v1::Object& object);
std::string KindPrefix(absl::string_view kind);
inline constexpr absl::string_view kObjectsPrefix = "/objects/";

// "service/redis-master", as kubectl names objects (a name longer than any valid one is cut short).
std::string DisplayName(const v1::Object& object);
std::string DisplayName(absl::string_view kind, absl::string_view name);

// Sets apiVersion and kind inside the inner message from the oneof.
void FillTypeMeta(v1::Object* object);

}  // namespace opctl
