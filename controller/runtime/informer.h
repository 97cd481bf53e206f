// One kind's objects and their changes (client-go's shared informer): a list at one revision, then
// every change after it from one watch of the hub. Controllers share it through the Manager: one
// subscription per kind however many controllers look, and handlers that only enqueue keys.
//
// It keeps no copy of the objects: the store already holds every object in memory, at the newest
// revision, and answers reads at once, so Get and List read through the registry. A second copy would
// double the controller's memory and could only be older.
//
// Thread-safe. Handlers run on the hub's dispatch thread (the first list on Start's caller): they must
// only queue and return.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "controller/registry.h"
#include "controller/watch_hub.h"

namespace opctl::controller {

class Informer {
 public:
  // Gets every change after the list; the listed objects too, as created changes, unless the handler
  // has a ListHandler, which gets them whole with the list's revision (to start an index over).
  using Handler = std::function<void(const ObjectChange& change)>;
  using ListHandler = std::function<void(const std::vector<v1::Object>& objects, int64_t revision)>;

  Informer(Registry& registry, WatchHub& hub, std::string kind)
      : registry_(registry), hub_(hub), kind_(std::move(kind)) {}
  ~Informer();  // unsubscribes

  const std::string& kind() const { return kind_; }
  // Before Start.
  void AddHandler(Handler on_change, ListHandler on_list = nullptr);
  // Lists the kind, hands every object to the handlers, then follows the watch from the list's revision.
  absl::Status Start();
  // Start has listed and subscribed: the handlers have seen every object up to the list's revision.
  bool HasSynced() const;

  std::optional<v1::Object> Get(const std::string& name) const;
  std::vector<v1::Object> List() const;  // in name order

 private:
  Registry& registry_;
  WatchHub& hub_;
  const std::string kind_;
  struct Handlers {
    Handler on_change;
    ListHandler on_list;
  };
  std::vector<Handlers> handlers_;  // fixed once started
  mutable absl::Mutex mutex_;
  bool synced_ ABSL_GUARDED_BY(mutex_) = false;
  uint64_t subscription_ = 0;
};

}  // namespace opctl::controller
