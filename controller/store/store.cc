#include "controller/store/store.h"

#include <future>

namespace opctl::controller {

absl::StatusOr<int64_t> Store::CommitAndWait(std::vector<Mutation> mutations) {
  std::promise<absl::StatusOr<int64_t>> promise;
  std::future<absl::StatusOr<int64_t>> result = promise.get_future();
  Commit(std::move(mutations), [&promise](absl::StatusOr<int64_t> revision) { promise.set_value(revision); });
  return result.get();
}

}  // namespace opctl::controller
