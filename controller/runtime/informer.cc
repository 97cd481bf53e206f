#include "controller/runtime/informer.h"

#include "common/object.h"

namespace opctl::controller {

Informer::~Informer() {
  if (subscription_ != 0) hub_.Unsubscribe(subscription_);
}

void Informer::AddHandler(Handler on_change, ListHandler on_list) {
  handlers_.push_back({std::move(on_change), std::move(on_list)});
}

absl::Status Informer::Start() {
  absl::StatusOr<v1::ListResponse> listed = registry_.List(kind_, "", "");
  if (!listed.ok()) return listed.status();
  std::vector<v1::Object> objects(listed->items().begin(), listed->items().end());
  for (const Handlers& handler : handlers_) {
    if (handler.on_list) {
      handler.on_list(objects, listed->revision());
      continue;
    }
    for (const v1::Object& object : objects) {
      ObjectChange change;
      change.revision = listed->revision();
      change.created = true;
      change.object = object;
      handler.on_change(change);
    }
  }
  absl::StatusOr<uint64_t> id =
      hub_.Subscribe(listed->revision(), [this](const std::vector<ChangePtr>& changes, int64_t) {
        for (const ChangePtr& change : changes) {
          if (KindOf(change->object) != kind_) continue;
          for (const Handlers& handler : handlers_) handler.on_change(*change);
        }
        return true;
      });
  if (!id.ok()) return id.status();
  subscription_ = *id;
  absl::MutexLock lock(&mutex_);
  synced_ = true;
  return absl::OkStatus();
}

bool Informer::HasSynced() const {
  absl::MutexLock lock(&mutex_);
  return synced_;
}

std::optional<v1::Object> Informer::Get(const std::string& name) const { return registry_.Find(kind_, name); }

std::vector<v1::Object> Informer::List() const { return registry_.ListKind(kind_); }

}  // namespace opctl::controller
