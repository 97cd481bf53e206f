#include "controller/reconcilers/registry_calls.h"

namespace opctl::controller {

absl::StatusOr<std::vector<v1::Object>> PutAll(Registry& registry, const std::vector<v1::Object>& objects) {
  std::vector<std::promise<absl::StatusOr<v1::Object>>> promises(objects.size());
  for (size_t i = 0; i < objects.size(); ++i) {
    registry.Put(objects[i], [&promises, i](absl::StatusOr<v1::Object> result) { promises[i].set_value(result); });
  }
  std::vector<v1::Object> written;
  absl::Status first_error;
  for (auto& promise : promises) {
    absl::StatusOr<v1::Object> result = promise.get_future().get();
    if (result.ok())
      written.push_back(*std::move(result));
    else
      first_error.Update(result.status());
  }
  if (!first_error.ok()) return first_error;
  return written;
}

}  // namespace opctl::controller
