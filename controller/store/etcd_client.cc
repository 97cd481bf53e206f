#include "controller/store/etcd_client.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/tls.h"

namespace opctl::controller {

absl::StatusOr<std::vector<std::string>> ParseEtcdEndpoints(const std::string& list) {
  std::vector<std::string> endpoints;
  for (absl::string_view part : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
    std::string url(absl::StripAsciiWhitespace(part));
    absl::string_view rest = url;
    if (!absl::ConsumePrefix(&rest, "https://") && !absl::ConsumePrefix(&rest, "http://")) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd endpoint \"", url, "\": must start with https:// or http:// (as etcd's own are written)"));
    }
    size_t colon = rest.rfind(':');
    int port = 0;
    if (colon == absl::string_view::npos || colon == 0 ||
        !absl::SimpleAtoi(absl::StripSuffix(rest.substr(colon + 1), "/"), &port) || port <= 0 || port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("etcd endpoint \"", url, "\": expected SCHEME://HOST:PORT"));
    }
    endpoints.push_back(std::string(absl::StripSuffix(url, "/")));
  }
  if (endpoints.empty()) return absl::InvalidArgumentError("no etcd endpoint given (--etcd-endpoints URL,URL,...)");
  return endpoints;
}

std::string PrefixRangeEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

absl::StatusOr<std::unique_ptr<EtcdClient>> EtcdClient::Create(EtcdOptions options) {
  std::unique_ptr<EtcdClient> client(new EtcdClient(std::move(options)));
  const EtcdOptions& o = client->options_;
  std::shared_ptr<grpc::ChannelCredentials> tls;
  bool any_https = false;
  for (const std::string& url : o.endpoints) any_https |= absl::StartsWith(url, "https://");
  if (any_https) {
    if (o.cert_file.empty() != o.key_file.empty()) {
      return absl::InvalidArgumentError("--etcd-cert and --etcd-key go together");
    }
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        TlsChannelCredentials(TlsFiles{o.ca_file, o.cert_file, o.key_file}, "");
    if (!credentials.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("etcd's TLS (--etcd-ca, --etcd-cert, --etcd-key): ", credentials.status().message()));
    }
    tls = *std::move(credentials);
  }
  for (const std::string& url : o.endpoints) {
    absl::string_view address = url;
    bool secure = absl::ConsumePrefix(&address, "https://");
    if (!secure) absl::ConsumePrefix(&address, "http://");
    grpc::ChannelArguments arguments;
    arguments.SetMaxReceiveMessageSize(256 << 20);  // a listing's page, or a large revision's events
    // Notice a dead member within seconds, also on an idle watch stream.
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 2000);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 2000);
    arguments.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    arguments.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);
    arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
    auto endpoint = std::make_unique<Endpoint>();
    endpoint->url = url;
    endpoint->channel =
        grpc::CreateCustomChannel(std::string(address), secure ? tls : grpc::InsecureChannelCredentials(), arguments);
    endpoint->kv = etcdserverpb::KV::NewStub(endpoint->channel);
    endpoint->watch = etcdserverpb::Watch::NewStub(endpoint->channel);
    endpoint->lease = etcdserverpb::Lease::NewStub(endpoint->channel);
    endpoint->maintenance = etcdserverpb::Maintenance::NewStub(endpoint->channel);
    endpoint->election = v3electionpb::Election::NewStub(endpoint->channel);
    client->endpoints_.push_back(std::move(endpoint));
  }
  if (client->endpoints_.empty()) return absl::InvalidArgumentError("no etcd endpoint given");
  return client;
}

const EtcdClient::Endpoint& EtcdClient::Current() const {
  absl::MutexLock lock(&mutex_);
  return *endpoints_[current_];
}

void EtcdClient::MoveOn(const Endpoint& failed) {
  absl::MutexLock lock(&mutex_);
  if (endpoints_[current_].get() == &failed) current_ = (current_ + 1) % endpoints_.size();
}

std::unique_ptr<grpc::ClientContext> EtcdClient::NewContext(absl::Duration timeout) const {
  auto context = std::make_unique<grpc::ClientContext>();
  context->set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  // etcd's WithRequireLeader: a member cut off from its cluster says so instead of waiting.
  context->AddMetadata("hasleader", "true");
  return context;
}

absl::Status EtcdClient::FromGrpc(const grpc::Status& status, const std::string& url, const char* call) {
  std::string where = absl::StrCat("etcd ", url, " ", call, ": ");
  switch (status.error_code()) {
    case grpc::StatusCode::OK:
      return absl::OkStatus();
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return absl::UnavailableError(
          absl::StrCat(where, "no answer in time (", status.error_message(),
                       "): etcd may have lost its quorum; a write may or may not have been applied, read it back"));
    case grpc::StatusCode::UNAVAILABLE:
      return absl::UnavailableError(absl::StrCat(where, status.error_message()));
    case grpc::StatusCode::OUT_OF_RANGE:
      return absl::OutOfRangeError(absl::StrCat(where, status.error_message()));
    case grpc::StatusCode::INVALID_ARGUMENT:
      return absl::InvalidArgumentError(absl::StrCat(where, status.error_message()));
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return absl::ResourceExhaustedError(absl::StrCat(where, status.error_message()));
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return absl::PermissionDeniedError(absl::StrCat(where, status.error_message()));
    default:
      return absl::UnavailableError(absl::StrCat(where, status.error_message()));
  }
}

template <typename Call>
absl::Status EtcdClient::OnSomeEndpoint(const char* name, Call call) {
  absl::Status last;
  for (size_t attempt = 0; attempt < endpoints_.size(); ++attempt) {
    const Endpoint& endpoint = Current();
    std::unique_ptr<grpc::ClientContext> context = NewContext(options_.request_timeout);
    grpc::Status status = call(endpoint, context.get());
    if (status.ok()) return absl::OkStatus();
    last = FromGrpc(status, endpoint.url, name);
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE) return last;
    MoveOn(endpoint);
  }
  return last;
}

absl::StatusOr<etcdserverpb::RangeResponse> EtcdClient::Range(const etcdserverpb::RangeRequest& request) {
  etcdserverpb::RangeResponse response;
  absl::Status status = OnSomeEndpoint("Range", [&](const Endpoint& endpoint, grpc::ClientContext* context) {
    return endpoint.kv->Range(context, request, &response);
  });
  if (!status.ok()) return status;
  return response;
}

absl::StatusOr<etcdserverpb::TxnResponse> EtcdClient::Txn(const etcdserverpb::TxnRequest& request) {
  etcdserverpb::TxnResponse response;
  absl::Status status = OnSomeEndpoint("Txn", [&](const Endpoint& endpoint, grpc::ClientContext* context) {
    return endpoint.kv->Txn(context, request, &response);
  });
  if (!status.ok()) return status;
  return response;
}

absl::Status EtcdClient::Compact(int64_t revision) {
  etcdserverpb::CompactionRequest request;
  request.set_revision(revision);
  etcdserverpb::CompactionResponse response;
  return OnSomeEndpoint("Compact", [&](const Endpoint& endpoint, grpc::ClientContext* context) {
    return endpoint.kv->Compact(context, request, &response);
  });
}

}  // namespace opctl::controller
