// A whole List, page by page: what every client of opctl.v1.Controller.List does (the CLI, agents),
// as kubectl reads a list in chunks. Header only; thread-safe as `call` is.
#pragma once

#include <cstdint>

#include "grpcpp/support/status.h"
#include "opctl/v1/controller.pb.h"

namespace opctl {

// Calls `call(request, page)` (one List call, returning its grpc::Status) for each page of `limit`
// objects and gathers every page's items into `response`, with the first page's revision: a watch
// from there misses nothing that changed while paging (what changed arrives again, as events).
template <typename Call>
grpc::Status ListAllPages(v1::ListRequest request, int64_t limit, v1::ListResponse* response, Call call) {
  request.set_limit(limit);
  response->Clear();
  do {
    v1::ListResponse page;
    grpc::Status status = call(request, &page);
    if (!status.ok()) return status;
    if (response->revision() == 0) response->set_revision(page.revision());
    for (v1::Object& item : *page.mutable_items()) *response->add_items() = std::move(item);
    request.set_continue_(page.continue_());
  } while (!request.continue_().empty());
  return grpc::Status::OK;
}

}  // namespace opctl
