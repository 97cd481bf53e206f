#include "controller/store/store.h"

#include <future>

namespace opctl::controller {

RangeResult Store::RangePage(absl::string_view prefix, absl::string_view after, size_t limit) const {
  RangeResult all = Range(prefix);
  RangeResult page;
  page.revision = all.revision;
  for (KeyValue& kv : all.kvs) {
    if (page.kvs.size() >= limit) break;
    if (kv.key > after) page.kvs.push_back(std::move(kv));
  }
  return page;
}

absl::StatusOr<int64_t> Store::CommitAndWait(std::vector<Mutation> mutations) {
  std::promise<absl::StatusOr<int64_t>> promise;
  std::future<absl::StatusOr<int64_t>> result = promise.get_future();
  Commit(std::move(mutations), [&promise](absl::StatusOr<int64_t> revision) { promise.set_value(revision); });
  return result.get();
}

}  // namespace opctl::controller
