// Blocking forms of the Registry's asynchronous writes, for reconcilers: a reconcile pass runs on its
// loop's worker thread, which may wait (gRPC threads never do).
#pragma once

#include <future>
#include <vector>

#include "absl/status/statusor.h"
#include "controller/registry.h"

namespace opctl::controller {

// Runs `call` with a done callback and waits for it.
template <typename T, typename Call>
absl::StatusOr<T> Wait(Call call) {
  std::promise<absl::StatusOr<T>> promise;
  auto future = promise.get_future();
  call([&promise](absl::StatusOr<T> result) { promise.set_value(std::move(result)); });
  return future.get();
}

// Puts every object at once and waits for all: the store groups concurrent writes into one disk sync,
// where one write after another would pay a sync each. Returns what was written, or the first error.
absl::StatusOr<std::vector<v1::Object>> PutAll(Registry& registry, const std::vector<v1::Object>& objects);

}  // namespace opctl::controller
