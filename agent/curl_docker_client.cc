#include "agent/curl_docker_client.h"

#include <curl/curl.h>

#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "agent/curl_url.h"
#include "agent/docker_json.h"
#include "agent/multiplexed_stream.h"

namespace opctl::agent {
namespace {

using Json = nlohmann::json;

// The newest API this client was written against; an older daemon is spoken to in its own version.
constexpr char kNewestApiVersion[] = "1.43";

size_t AppendToString(char* data, size_t size, size_t count, void* target) {
  static_cast<std::string*>(target)->append(data, size * count);
  return size * count;
}

// ?filters={"label":["k=v",...]} as Docker wants it.
std::string LabelFilter(const std::map<std::string, std::string>& labels, const std::string& extra = "") {
  Json filters = Json::object();
  if (!labels.empty()) {
    Json list = Json::array();
    for (const auto& [key, value] : labels) list.push_back(key + "=" + value);
    filters["label"] = list;
  }
  if (!extra.empty()) filters["type"] = Json::array({extra});
  return filters.empty() ? "" : "filters=" + UrlEscape(filters.dump());
}

struct Performed {
  CURLcode code;
  long http_code = 0;
};

// One request to dockerd, its curl handle and headers freed however it ends. What every request
// shares is set here: the socket, the URL, a content type, a connect timeout and no signals; the
// caller sets the rest (libcurl copies string options; a body must outlive Perform).
class Transfer {
 public:
  Transfer(const std::string& socket, const std::string& url, const char* content_type)
      : curl_(curl_easy_init()), headers_(curl_slist_append(nullptr, content_type)) {
    if (curl_ == nullptr) return;
    Set(CURLOPT_UNIX_SOCKET_PATH, socket.c_str());
    Set(CURLOPT_URL, url.c_str());
    Set(CURLOPT_HTTPHEADER, headers_);
    Set(CURLOPT_CONNECTTIMEOUT, 5L);
    Set(CURLOPT_NOSIGNAL, 1L);
  }
  ~Transfer() {
    if (curl_ != nullptr) curl_easy_cleanup(curl_);
    curl_slist_free_all(headers_);
  }
  Transfer(const Transfer&) = delete;
  Transfer& operator=(const Transfer&) = delete;

  bool ok() const { return curl_ != nullptr; }
  CURL* handle() { return curl_; }
  template <typename Value>
  void Set(CURLoption option, Value value) {
    curl_easy_setopt(curl_, option, value);
  }
  Performed Perform() {
    Performed performed{curl_easy_perform(curl_)};
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &performed.http_code);
    return performed;
  }

 private:
  CURL* curl_;
  curl_slist* headers_;
};

constexpr char kJson[] = "Content-Type: application/json";

}  // namespace

std::string DockerCallName(const std::string& method, const std::string& path) {
  // Paths are the agent's own: /RESOURCE[/ID-OR-NAME-OR-VERB[/ACTION]][?query].
  static const std::set<std::string> kVerbs = {"json", "create", "prune"};
  static const std::set<std::string> kActions = {"json",    "start",      "stop",    "restart", "kill",  "wait",
                                                 "logs",    "stats",      "archive", "resize",  "exec",  "attach",
                                                 "connect", "disconnect", "top",     "update",  "rename"};
  std::vector<std::string> parts = absl::StrSplit(path.substr(0, path.find('?')), '/', absl::SkipEmpty());
  std::string name = absl::StrCat(method, " ", parts.empty() ? "" : parts[0]);
  if (parts.size() >= 2) absl::StrAppend(&name, "/", kVerbs.count(parts[1]) && parts.size() == 2 ? parts[1] : "{id}");
  if (parts.size() >= 3) absl::StrAppend(&name, "/", kActions.count(parts[2]) ? parts[2] : "{action}");
  return name;
}

CurlDockerClient::CurlDockerClient(std::string socket_path) : socket_path_(std::move(socket_path)) {
  curl_global_init(CURL_GLOBAL_DEFAULT);
}

absl::StatusOr<CurlDockerClient::Response> CurlDockerClient::Send(const std::string& method, const std::string& url,
                                                                  const std::string& body, long timeout_seconds) {
  Transfer transfer(socket_path_, url, kJson);
  if (!transfer.ok()) return absl::InternalError("curl_easy_init failed");
  Response response;
  transfer.Set(CURLOPT_CUSTOMREQUEST, method.c_str());
  transfer.Set(CURLOPT_WRITEFUNCTION, AppendToString);
  transfer.Set(CURLOPT_WRITEDATA, &response.body);
  transfer.Set(CURLOPT_TIMEOUT, timeout_seconds);
  if (method == "POST" || !body.empty()) {
    transfer.Set(CURLOPT_POSTFIELDS, body.c_str());
    transfer.Set(CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  auto [code, http_code] = transfer.Perform();
  response.code = http_code;
  if (code != CURLE_OK) {
    return absl::UnavailableError(
        absl::StrCat("cannot reach dockerd at ", socket_path_, ": ", curl_easy_strerror(code)));
  }
  return response;
}

absl::StatusOr<std::string> CurlDockerClient::ApiPrefix() {
  {
    absl::MutexLock lock(&mutex_);
    if (!api_version_.empty()) return absl::StrCat("http://localhost/v", api_version_);
  }
  absl::StatusOr<Response> version = Send("GET", "http://localhost/version", "", 10);
  if (!version.ok()) return version.status();
  absl::StatusOr<std::string> server_version = DecodeApiVersion(version->body);
  if (!server_version.ok()) return server_version.status();
  const std::string& server = *server_version;
  double server_number = 0, newest = 0;
  bool parsed = absl::SimpleAtod(server, &server_number) && absl::SimpleAtod(kNewestApiVersion, &newest);
  absl::MutexLock lock(&mutex_);
  api_version_ = !parsed || server_number > newest ? kNewestApiVersion : server;
  return absl::StrCat("http://localhost/v", api_version_);
}

absl::StatusOr<CurlDockerClient::Response> CurlDockerClient::Call(const std::string& method, const std::string& path,
                                                                  const std::string& body, long timeout_seconds) {
  absl::StatusOr<std::string> prefix = ApiPrefix();
  if (!prefix.ok()) return prefix.status();
  absl::Time started = absl::Now();
  absl::StatusOr<Response> response = Send(method, *prefix + path, body, timeout_seconds);
  if (observer_) observer_(DockerCallName(method, path), response.ok() ? response->code : 0, absl::Now() - started);
  if (!response.ok()) return response.status();
  if (response->code < 400) return response;
  return DockerHttpError(response->code, response->body, method, path);
}

absl::StatusOr<DockerHostInfo> CurlDockerClient::Info() {
  absl::StatusOr<Response> response = Call("GET", "/info");
  if (!response.ok()) return response.status();
  absl::StatusOr<DockerHostInfo> host = DecodeInfo(response->body);
  if (!host.ok()) return host.status();
  absl::MutexLock lock(&mutex_);
  host->api_version = api_version_;
  return host;
}

absl::StatusOr<std::vector<DockerContainer>> CurlDockerClient::ListContainersMatching(const std::string& filters) {
  absl::StatusOr<Response> response = Call("GET", "/containers/json?all=1" + (filters.empty() ? "" : "&" + filters));
  if (!response.ok()) return response.status();
  return DecodeContainerList(response->body);
}

absl::StatusOr<std::vector<DockerContainer>> CurlDockerClient::ListContainers(
    const std::map<std::string, std::string>& labels) {
  return ListContainersMatching(LabelFilter(labels));
}

absl::StatusOr<std::vector<DockerContainer>> CurlDockerClient::ListContainersUsingVolume(const std::string& volume) {
  Json filters = {{"volume", Json::array({volume})}};
  return ListContainersMatching("filters=" + UrlEscape(filters.dump()));
}

absl::StatusOr<DockerStats> CurlDockerClient::ContainerStats(const std::string& id) {
  absl::StatusOr<Response> response = Call("GET", "/containers/" + UrlEscape(id) + "/stats?stream=false", "", 30);
  if (!response.ok()) return response.status();
  return DecodeStats(response->body);
}

absl::StatusOr<DockerContainer> CurlDockerClient::InspectContainer(const std::string& id_or_name) {
  absl::StatusOr<Response> response = Call("GET", "/containers/" + UrlEscape(id_or_name) + "/json");
  if (!response.ok()) return response.status();
  return DecodeContainerInspect(response->body);
}

absl::StatusOr<std::string> CurlDockerClient::CreateContainer(const std::string& name,
                                                              const DockerContainerSpec& spec) {
  absl::StatusOr<Response> response =
      Call("POST", "/containers/create?name=" + UrlEscape(name), EncodeContainerCreate(spec));
  if (!response.ok()) return response.status();
  return DecodeId(response->body, "container create");
}

absl::Status CurlDockerClient::StartContainer(const std::string& id) {
  return Call("POST", "/containers/" + UrlEscape(id) + "/start").status();  // 304: already running, fine
}

absl::Status CurlDockerClient::RestartContainer(const std::string& id, int timeout_seconds) {
  return Call("POST", absl::StrCat("/containers/", UrlEscape(id), "/restart?t=", timeout_seconds), "",
              timeout_seconds + 60)
      .status();
}

absl::Status CurlDockerClient::StopContainer(const std::string& id, int timeout_seconds) {
  return Call("POST", absl::StrCat("/containers/", UrlEscape(id), "/stop?t=", timeout_seconds), "",
              timeout_seconds + 60)
      .status();  // 304: already stopped, fine
}

absl::Status CurlDockerClient::RemoveContainer(const std::string& id) {
  return Call("DELETE", "/containers/" + UrlEscape(id) + "?force=1&v=1").status();
}

absl::StatusOr<std::vector<DockerNetwork>> CurlDockerClient::ListNetworks(
    const std::map<std::string, std::string>& labels) {
  std::string filter = LabelFilter(labels);
  absl::StatusOr<Response> response = Call("GET", "/networks" + (filter.empty() ? "" : "?" + filter));
  if (!response.ok()) return response.status();
  return DecodeNetworkList(response->body);
}

absl::StatusOr<DockerNetwork> CurlDockerClient::InspectNetwork(const std::string& id_or_name) {
  absl::StatusOr<Response> response = Call("GET", "/networks/" + UrlEscape(id_or_name));
  if (!response.ok()) return response.status();
  return DecodeNetworkInspect(response->body);
}

absl::StatusOr<std::string> CurlDockerClient::CreateNetwork(const DockerNetworkSpec& spec) {
  absl::StatusOr<Response> response = Call("POST", "/networks/create", EncodeNetworkCreate(spec));
  if (!response.ok()) return response.status();
  return DecodeId(response->body, "network create");
}

absl::Status CurlDockerClient::RemoveNetwork(const std::string& id) {
  return Call("DELETE", "/networks/" + UrlEscape(id)).status();
}

absl::Status CurlDockerClient::ConnectNetwork(const std::string& network, const std::string& container_id,
                                              const std::string& ipv4_address) {
  return Call("POST", "/networks/" + UrlEscape(network) + "/connect", EncodeNetworkConnect(container_id, ipv4_address))
      .status();
}

absl::StatusOr<std::vector<DockerVolume>> CurlDockerClient::ListVolumes(
    const std::map<std::string, std::string>& labels) {
  std::string filter = LabelFilter(labels);
  absl::StatusOr<Response> response = Call("GET", "/volumes" + (filter.empty() ? "" : "?" + filter));
  if (!response.ok()) return response.status();
  return DecodeVolumeList(response->body);
}

absl::Status CurlDockerClient::CreateVolume(const std::string& name, const std::map<std::string, std::string>& labels) {
  Json body = {{"Name", name}, {"Labels", labels}};
  return Call("POST", "/volumes/create", body.dump()).status();
}

absl::Status CurlDockerClient::RemoveVolume(const std::string& name) {
  return Call("DELETE", "/volumes/" + UrlEscape(name)).status();
}

absl::StatusOr<DockerImage> CurlDockerClient::InspectImage(const std::string& reference) {
  absl::StatusOr<Response> response = Call("GET", "/images/" + UrlEscape(reference) + "/json");
  if (!response.ok()) return response.status();
  return DecodeImageInspect(response->body);
}

absl::Status CurlDockerClient::PullImage(const std::string& reference) {
  std::string image = reference, tag = "latest";
  size_t colon = reference.rfind(':');
  if (colon != std::string::npos && reference.find('/', colon) == std::string::npos) {
    image = reference.substr(0, colon);
    tag = reference.substr(colon + 1);
  }
  absl::StatusOr<Response> response =
      Call("POST", "/images/create?fromImage=" + UrlEscape(image) + "&tag=" + UrlEscape(tag), "", 600);
  if (!response.ok()) return response.status();
  // A pull answers 200 and reports failure inside its progress stream.
  for (absl::string_view line : absl::StrSplit(response->body, '\n', absl::SkipEmpty())) {
    if (std::optional<std::string> error = DecodeProgressError(std::string(line))) {
      return absl::NotFoundError(absl::StrCat("pull ", reference, ": ", *error));
    }
  }
  return absl::OkStatus();
}

namespace {

struct StreamState {
  CURL* curl;
  const std::function<bool(std::string_view)>* on_bytes;
  std::string error_body;  // Docker's answer when it is an error
  bool stopped = false;
};

size_t OnStreamBytes(char* data, size_t size, size_t count, void* target) {
  auto* state = static_cast<StreamState*>(target);
  long code = 0;
  curl_easy_getinfo(state->curl, CURLINFO_RESPONSE_CODE, &code);
  if (code >= 400) {
    state->error_body.append(data, size * count);
  } else if (!(*state->on_bytes)(std::string_view(data, size * count))) {
    state->stopped = true;
    return 0;  // aborts the transfer
  }
  return size * count;
}

int CheckCancel(void* cancelled, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  return (*static_cast<const CancelCheck*>(cancelled))() ? 1 : 0;
}

}  // namespace

absl::Status CurlDockerClient::Stream(const std::string& method, const std::string& path, const std::string& body,
                                      const std::function<bool(std::string_view)>& on_bytes,
                                      const CancelCheck& cancelled) {
  absl::StatusOr<std::string> prefix = ApiPrefix();
  if (!prefix.ok()) return prefix.status();
  std::string url = *prefix + path;
  Transfer transfer(socket_path_, url, kJson);
  if (!transfer.ok()) return absl::InternalError("curl_easy_init failed");
  StreamState state{transfer.handle(), &on_bytes, "", false};
  transfer.Set(CURLOPT_CUSTOMREQUEST, method.c_str());
  if (method == "POST") {
    transfer.Set(CURLOPT_POSTFIELDS, body.c_str());
    transfer.Set(CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  }
  transfer.Set(CURLOPT_WRITEFUNCTION, OnStreamBytes);
  transfer.Set(CURLOPT_WRITEDATA, &state);
  transfer.Set(CURLOPT_NOPROGRESS, 0L);
  transfer.Set(CURLOPT_XFERINFOFUNCTION, CheckCancel);
  transfer.Set(CURLOPT_XFERINFODATA, &cancelled);
  auto [code, http_code] = transfer.Perform();
  if (http_code >= 400) return DockerHttpError(http_code, state.error_body, method, path);
  if (state.stopped || cancelled()) return absl::OkStatus();
  if (code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("docker ", method, " ", path.substr(0, path.find('?')),
                                               " stream broke: ", curl_easy_strerror(code)));
  }
  return absl::OkStatus();
}

absl::Status CurlDockerClient::StreamEvents(const std::map<std::string, std::string>& labels,
                                            const std::function<bool(const DockerEvent&)>& on_event,
                                            const std::atomic<bool>& cancel) {
  std::string buffer;
  bool stopped = false;
  auto on_bytes = [&](std::string_view bytes) {
    buffer.append(bytes);
    size_t newline;
    while ((newline = buffer.find('\n')) != std::string::npos) {
      std::string line = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      std::optional<DockerEvent> event = DecodeEvent(line);
      if (event && !on_event(*event)) return !(stopped = true);
    }
    return true;
  };
  absl::Status status =
      Stream("GET", "/events?" + LabelFilter(labels, "container"), "", on_bytes, [&cancel] { return cancel.load(); });
  if (stopped || cancel) return absl::OkStatus();
  if (status.ok()) return absl::UnavailableError("docker event stream ended");
  return status;
}

absl::Status CurlDockerClient::StreamLogs(const std::string& id, const DockerLogOptions& options,
                                          const OutputSink& sink, const CancelCheck& cancelled) {
  std::string path = absl::StrCat("/containers/", UrlEscape(id), "/logs?stdout=1&stderr=1");
  if (options.follow) path += "&follow=1";
  if (options.tail > 0) absl::StrAppend(&path, "&tail=", options.tail);
  if (options.since_unix > 0) absl::StrAppend(&path, "&since=", options.since_unix);
  if (options.timestamps) path += "&timestamps=1";
  MultiplexedStreamDecoder decoder(sink);
  return Stream(
      "GET", path, "", [&decoder](std::string_view bytes) { return decoder.Feed(bytes); }, cancelled);
}

namespace {

size_t ReadFromFile(char* buffer, size_t size, size_t count, void* file) {
  return std::fread(buffer, size, count, static_cast<FILE*>(file)) * size;
}

}  // namespace

absl::Status CurlDockerClient::PutArchive(const std::string& id, const std::string& path, const std::string& tar_file) {
  absl::StatusOr<std::string> prefix = ApiPrefix();
  if (!prefix.ok()) return prefix.status();
  std::string request_path = "/containers/" + UrlEscape(id) + "/archive?path=" + UrlEscape(path);
  std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(tar_file.c_str(), "rb"), &std::fclose);
  if (file == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", tar_file));
  std::fseek(file.get(), 0, SEEK_END);
  long size = std::ftell(file.get());
  std::fseek(file.get(), 0, SEEK_SET);
  std::string url = *prefix + request_path, body;
  Transfer transfer(socket_path_, url, "Content-Type: application/x-tar");
  if (!transfer.ok()) return absl::InternalError("curl_easy_init failed");
  transfer.Set(CURLOPT_UPLOAD, 1L);
  transfer.Set(CURLOPT_READFUNCTION, ReadFromFile);
  transfer.Set(CURLOPT_READDATA, file.get());
  transfer.Set(CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(size));
  // However large the archive, a dockerd that stops taking it for a minute has hung.
  transfer.Set(CURLOPT_LOW_SPEED_LIMIT, 1L);
  transfer.Set(CURLOPT_LOW_SPEED_TIME, 60L);
  transfer.Set(CURLOPT_WRITEFUNCTION, AppendToString);
  transfer.Set(CURLOPT_WRITEDATA, &body);
  auto [code, http_code] = transfer.Perform();
  if (code != CURLE_OK) {
    return absl::UnavailableError(absl::StrCat("docker PUT archive: ", curl_easy_strerror(code)));
  }
  if (http_code >= 400) return DockerHttpError(http_code, body, "PUT", request_path);
  return absl::OkStatus();
}

}  // namespace opctl::agent
