#include "controller/store/etcd_store.h"

#include <algorithm>
#include <future>

#include "absl/strings/str_cat.h"
#include "common/clock.h"
#include "controller/store/etcd_transaction.h"

namespace opctl::controller {
namespace {

constexpr int64_t kSnapshotPage = 1000;

bool ChangedSomething(const etcdserverpb::TxnResponse& response) {
  for (const etcdserverpb::ResponseOp& op : response.responses()) {
    if (!op.has_response_delete_range() || op.response_delete_range().deleted() > 0) return true;
  }
  return false;
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdStore>> EtcdStore::Open(EtcdStoreOptions options) {
  absl::StatusOr<std::unique_ptr<EtcdClient>> client = EtcdClient::Create(options.etcd);
  if (!client.ok()) return client.status();
  std::unique_ptr<EtcdStore> store(new EtcdStore(std::move(options), *std::move(client)));
  absl::Time give_up = absl::Now() + store->options_.connect_timeout;
  while (true) {
    absl::Status loaded = store->Load();
    if (loaded.ok()) break;
    if (absl::Now() >= give_up) return loaded;
    store->Log(absl::StrCat("cannot load the store yet, retrying: ", loaded.message()));
    // A wrong endpoint or certificate stays wrong; an unreachable cluster may come: either way, say so and retry.
    Clock::Real().SleepUntil(std::min(give_up, absl::Now() + absl::Seconds(1)));
  }
  store->watcher_ = std::thread([raw = store.get()] { raw->WatchLoop(); });
  store->ticker_ = std::thread([raw = store.get()] { raw->TickerLoop(); });
  for (int i = 0; i < std::max(1, store->options_.committers); ++i) {
    store->committers_.emplace_back([raw = store.get()] { raw->CommitterLoop(); });
  }
  return store;
}

EtcdStore::EtcdStore(EtcdStoreOptions options, std::unique_ptr<EtcdClient> client)
    : options_(std::move(options)), client_(std::move(client)) {}

EtcdStore::~EtcdStore() {
  {
    absl::MutexLock lock(&queue_mutex_);
    closing_ = true;
  }
  for (std::thread& committer : committers_) committer.join();
  {
    absl::MutexLock lock(&mutex_);
    stopping_ = true;
  }
  {
    absl::MutexLock lock(&stream_mutex_);
    streams_cancelled_ = true;  // also a stream the watch thread is about to open
    if (stream_context_) stream_context_->TryCancel();
  }
  if (watcher_.joinable()) watcher_.join();
  if (ticker_.joinable()) ticker_.join();
  // Commits etcd took whose events never reached the mirror: committed all the same.
  FireWaiters(absl::InfiniteFuture());
}

absl::StatusOr<int64_t> EtcdStore::ReadSnapshot(std::map<std::string, KeyValue, std::less<>>& into) {
  etcdserverpb::RangeRequest request;
  request.set_key(options_.prefix);
  request.set_range_end(PrefixRangeEnd(options_.prefix));
  request.set_limit(kSnapshotPage);
  int64_t revision = 0;
  while (true) {
    absl::StatusOr<etcdserverpb::RangeResponse> page = client_->Range(request);
    if (!page.ok()) return page.status();
    if (revision == 0) {
      revision = page->header().revision();
      request.set_revision(revision);  // every page at the first one's revision
    }
    for (const mvccpb::KeyValue& kv : page->kvs()) {
      KeyValue entry = FromEtcdKeyValue(kv, options_.prefix);
      into[entry.key] = std::move(entry);
    }
    if (!page->more() || page->kvs_size() == 0) return revision;
    request.set_key(page->kvs(page->kvs_size() - 1).key() + std::string(1, '\0'));
  }
}

absl::Status EtcdStore::Load() {
  std::map<std::string, KeyValue, std::less<>> snapshot;
  absl::StatusOr<int64_t> revision = ReadSnapshot(snapshot);
  if (!revision.ok()) return revision.status();
  absl::MutexLock lock(&mutex_);
  keys_.Clear();
  for (auto& [key, kv] : snapshot) keys_.Load(std::move(kv));
  keys_.set_revision(*revision);
  keys_.set_compacted_revision(*revision);  // until the history replay below reaches the snapshot
  snapshot_revision_ = *revision;
  history_from_ = std::max<int64_t>(1, *revision - options_.history_revisions + 1);
  delivered_ = history_from_ - 1;
  last_heard_ = absl::Now();
  MaybeHistoryComplete();
  return absl::OkStatus();
}

void EtcdStore::MaybeHistoryComplete() {
  if (delivered_ >= snapshot_revision_ && keys_.compacted_revision() > history_from_ - 1 &&
      keys_.compacted_revision() == snapshot_revision_) {
    keys_.set_compacted_revision(history_from_ - 1);
  }
}

void EtcdStore::WatchLoop() {
  absl::Duration backoff = absl::Milliseconds(100);
  while (true) {
    const EtcdClient::Endpoint& endpoint = client_->Current();
    absl::Time started = absl::Now();
    absl::Status ended = WatchOn(endpoint);
    absl::MutexLock lock(&mutex_);
    if (stopping_) return;
    last_error_ = std::string(ended.message());
    Log(absl::StrCat("watch on ", endpoint.url, " ended (", ended.message(), "); trying the next endpoint"));
    client_->MoveOn(endpoint);
    backoff =
        absl::Now() - started > absl::Seconds(5) ? absl::Milliseconds(100) : std::min(backoff * 2, absl::Seconds(1));
    mutex_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
    if (stopping_) return;
  }
}

std::optional<etcdserverpb::WatchRequest> EtcdStore::CreateRequest() {
  absl::MutexLock lock(&mutex_);
  if (stopping_) return std::nullopt;
  etcdserverpb::WatchRequest create;
  etcdserverpb::WatchCreateRequest* request = create.mutable_create_request();
  request->set_key(options_.prefix);
  request->set_range_end(PrefixRangeEnd(options_.prefix));
  request->set_start_revision(delivered_ + 1);
  request->set_prev_kv(true);
  request->set_progress_notify(true);
  return create;
}

absl::Status EtcdStore::Cancelled(const etcdserverpb::WatchResponse& response) {
  if (response.compact_revision() == 0) {
    return absl::UnavailableError(absl::StrCat("watch cancelled: ", response.cancel_reason()));
  }
  {
    absl::MutexLock lock(&mutex_);
    if (delivered_ < snapshot_revision_) {
      // The history asked for is partly compacted: the next watch replays what is left.
      history_from_ = std::max(history_from_, response.compact_revision());
      delivered_ = std::max(delivered_, history_from_ - 1);
      return absl::OutOfRangeError(absl::StrCat("history before ", response.compact_revision(), " is compacted"));
    }
  }
  absl::Status relisted = Relist();
  if (!relisted.ok()) return relisted;
  return absl::OutOfRangeError("the watch fell behind etcd's compaction: relisted");
}

absl::Status EtcdStore::WatchOn(const EtcdClient::Endpoint& endpoint) {
  std::optional<etcdserverpb::WatchRequest> create = CreateRequest();
  if (!create) return absl::CancelledError("closing");
  grpc::ClientContext context;
  context.AddMetadata("hasleader", "true");  // a member without a leader cancels the watch
  std::unique_ptr<Stream> stream = endpoint.watch->Watch(&context);
  {
    absl::MutexLock lock(&stream_mutex_);
    stream_ = stream.get();
    stream_context_ = &context;
    // Closing began between the request and here: end the stream now, or Read would wait for etcd.
    if (streams_cancelled_) context.TryCancel();
    stream->Write(*create);
  }
  absl::Status why = absl::OkStatus();
  etcdserverpb::WatchResponse response;
  while (why.ok() && stream->Read(&response)) {
    {
      absl::MutexLock lock(&mutex_);
      last_heard_ = absl::Now();
    }
    if (response.created()) continue;
    if (response.canceled())
      why = Cancelled(response);
    else if (response.events_size() == 0)
      Progressed(response.header().revision());
    else
      Deliver(response);
  }
  {
    absl::MutexLock lock(&stream_mutex_);
    stream_ = nullptr;
    stream_context_ = nullptr;
  }
  context.TryCancel();
  grpc::Status finished = stream->Finish();
  if (!why.ok()) return why;
  return finished.ok() ? absl::UnavailableError("the watch stream ended")
                       : EtcdClient::FromGrpc(finished, endpoint.url, "Watch");
}

void EtcdStore::Deliver(const etcdserverpb::WatchResponse& response) {
  int at = 0;
  while (at < response.events_size()) {
    // One revision's events are contiguous in a response.
    int64_t revision = response.events(at).kv().mod_revision();
    std::vector<Event> events;
    for (; at < response.events_size() && response.events(at).kv().mod_revision() == revision; ++at) {
      events.push_back(FromEtcdEvent(response.events(at), options_.prefix));
    }
    CommitListener listener;
    {
      absl::MutexLock lock(&mutex_);
      if (revision <= delivered_) continue;  // seen before a reconnect
      delivered_ = revision;
      if (revision <= snapshot_revision_) {
        for (Event& event : events) keys_.LoadHistory(std::move(event));
        MaybeHistoryComplete();
        continue;
      }
      for (const Event& event : events) keys_.Apply(event);
      keys_.set_revision(revision);
      MaybeHistoryComplete();
      int64_t kept = options_.history_revisions;
      if (revision - keys_.compacted_revision() > kept + kept / 10) keys_.CompactTo(revision - kept);
      listener = listener_;
    }
    if (listener) listener(revision, events);
    FireWaiters(absl::Now());
  }
}

void EtcdStore::Progressed(int64_t revision) {
  {
    absl::MutexLock lock(&mutex_);
    // etcd 3.4.23 may send a progress notification ahead of events it has yet to send (etcd#15220,
    // fixed in 3.4.24): it moves neither the mirror's revision nor what the history replay has
    // delivered, only what waits for etcd's word (an aborted commit's retry).
    if (revision < progressed_) return;
    progressed_ = revision;
    // The second such answer at or past the snapshot comes a progress interval after the first:
    // whatever the replay still had in flight at the snapshot has arrived by then.
    if (revision >= snapshot_revision_ && ++progress_past_snapshot_ >= 2)
      delivered_ = std::max(delivered_, snapshot_revision_);
    MaybeHistoryComplete();
  }
  FireWaiters(absl::Now());
}

absl::Status EtcdStore::Relist() {
  std::map<std::string, KeyValue, std::less<>> snapshot;
  absl::StatusOr<int64_t> revision = ReadSnapshot(snapshot);
  if (!revision.ok()) return revision.status();
  std::vector<Event> events;
  CommitListener listener;
  {
    absl::MutexLock lock(&mutex_);
    for (const auto& [key, old] : keys_.keys()) {
      if (snapshot.count(key)) continue;
      Event gone{Event::Type::kDelete, old, false, ""};
      gone.kv.mod_revision = *revision;
      events.push_back(std::move(gone));
    }
    for (const auto& [key, kv] : snapshot) {
      const KeyValue* old = keys_.Find(key);
      if (old && old->mod_revision == kv.mod_revision) continue;
      events.push_back(Event{Event::Type::kPut, kv, old == nullptr, old ? old->value : ""});
    }
    keys_.Clear();
    for (auto& [key, kv] : snapshot) keys_.Load(std::move(kv));
    keys_.set_revision(*revision);
    keys_.set_compacted_revision(*revision);  // what happened in between is gone: watchers relist too
    snapshot_revision_ = *revision;
    delivered_ = *revision;
    listener = listener_;
  }
  Log(absl::StrCat("relisted at revision ", *revision, ": ", events.size(), " keys changed meanwhile"));
  if (listener && !events.empty()) listener(*revision, events);
  FireWaiters(absl::Now());
  return absl::OkStatus();
}

void EtcdStore::TickerLoop() {
  while (true) {
    bool stale = false;
    {
      absl::MutexLock lock(&mutex_);
      mutex_.AwaitWithTimeout(absl::Condition(
                                  +[](EtcdStore* self) ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->mutex_) {
                                    return self->stopping_ || self->progress_wanted_;
                                  },
                                  this),
                              options_.progress_interval);
      if (stopping_) return;
      progress_wanted_ = false;
      stale = absl::Now() - last_heard_ > options_.stale_after;
    }
    {
      // Ask where etcd is: the answer moves the mirror's revision past writes outside the prefix,
      // and says the member is still there.
      absl::MutexLock lock(&stream_mutex_);
      if (stream_) {
        etcdserverpb::WatchRequest progress;
        progress.mutable_progress_request();
        stream_->Write(progress);
      }
      if (stale && stream_context_) stream_context_->TryCancel();  // a silent member: try another
    }
    FireWaiters(absl::Now());
  }
}

void EtcdStore::FireWaiters(absl::Time now) {
  std::vector<std::function<void()>> ready;
  {
    absl::MutexLock lock(&mutex_);
    for (auto it = waiters_.begin(); it != waiters_.end();) {
      int64_t reached = it->second.needs_event ? keys_.revision() : std::max(keys_.revision(), progressed_);
      if (it->first <= reached || it->second.deadline <= now) {
        ready.push_back(std::move(it->second.then));
        it = waiters_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& then : ready) then();
}

void EtcdStore::WhenMirrorReaches(int64_t revision, bool needs_event, std::function<void()> then) {
  {
    absl::MutexLock lock(&mutex_);
    int64_t reached = needs_event ? keys_.revision() : std::max(keys_.revision(), progressed_);
    if (reached < revision) {
      waiters_.emplace(revision, Waiter{absl::Now() + options_.etcd.request_timeout, needs_event, std::move(then)});
      progress_wanted_ |= !needs_event;
      return;
    }
  }
  then();
}

void EtcdStore::Commit(Transaction transaction, CommitCallback done) {
  absl::MutexLock lock(&queue_mutex_);
  if (closing_) {
    done(absl::UnavailableError("the store is closing"));
    return;
  }
  queue_.push_back({std::move(transaction), std::move(done)});
}

void EtcdStore::CommitterLoop() {
  while (true) {
    PendingCommit pending;
    {
      absl::MutexLock lock(&queue_mutex_);
      queue_mutex_.Await(absl::Condition(
          +[](EtcdStore* self)
               ABSL_EXCLUSIVE_LOCKS_REQUIRED(self->queue_mutex_) { return self->closing_ || !self->queue_.empty(); },
          this));
      if (queue_.empty()) return;  // closing, and nothing left
      if (closing_) {
        for (PendingCommit& left : queue_) left.done(absl::UnavailableError("the store is closing"));
        queue_.clear();
        return;
      }
      pending = std::move(queue_.front());
      queue_.pop_front();
    }
    CommitOne(std::move(pending));
  }
}

void EtcdStore::CommitOne(PendingCommit pending) {
  if (pending.transaction.mutations.empty() && pending.transaction.preconditions.empty()) {
    pending.done(Revision());
    return;
  }
  absl::StatusOr<etcdserverpb::TxnRequest> txn = ToEtcdTxn(pending.transaction, options_.prefix, options_.etcd);
  if (!txn.ok()) {
    pending.done(txn.status());
    return;
  }
  absl::StatusOr<etcdserverpb::TxnResponse> response = client_->Txn(*txn);
  if (!response.ok()) {
    pending.done(response.status());
    return;
  }
  int64_t revision = response->header().revision();
  if (response->succeeded()) {
    // Answered once the mirror has its events: the writer then reads its own write here. A
    // transaction that changed nothing made no revision and has no event: etcd's word will do.
    WhenMirrorReaches(revision, ChangedSomething(*response),
                      [done = std::move(pending.done), revision] { done(revision); });
    return;
  }
  // A retry must not read the state that made this fail: wait for the mirror to get past it too.
  absl::Status aborted = DescribeAbort(pending.transaction, *response);
  WhenMirrorReaches(revision, false, [done = std::move(pending.done), aborted] { done(aborted); });
}

absl::Status EtcdStore::ReadsCurrent() const {
  absl::ReaderMutexLock lock(&mutex_);
  absl::Duration silent = absl::Now() - last_heard_;
  if (silent <= options_.stale_after) return absl::OkStatus();
  return absl::UnavailableError(
      absl::StrCat("no word from etcd for ", absl::FormatDuration(absl::Trunc(silent, absl::Milliseconds(100))),
                   last_error_.empty() ? "" : absl::StrCat(" (", last_error_, ")"),
                   ": what this controller holds (revision ", keys_.revision(), ") may be stale"));
}

absl::Status EtcdStore::Compact(int64_t revision) {
  if (absl::Status compacted = client_->Compact(revision); !compacted.ok()) return compacted;
  absl::MutexLock lock(&mutex_);
  keys_.CompactTo(std::min(revision, keys_.revision()));
  return absl::OkStatus();
}

}  // namespace opctl::controller
