#include "common/controller_channel.h"

#include <arpa/inet.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace opctl {
namespace {

bool IsIpv4WithPort(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return false;
  in_addr ip{};
  int port = 0;
  return inet_pton(AF_INET, address.substr(0, colon).c_str(), &ip) == 1 &&
         absl::SimpleAtoi(address.substr(colon + 1), &port) && port > 0 && port <= 65535;
}

}  // namespace

absl::StatusOr<std::vector<std::string>> ParseControllerAddresses(const std::string& servers) {
  std::vector<std::string> addresses;
  for (absl::string_view part : absl::StrSplit(servers, ',', absl::SkipWhitespace())) {
    addresses.emplace_back(absl::StripAsciiWhitespace(part));
  }
  if (addresses.empty()) return absl::InvalidArgumentError("no controller address given");
  if (addresses.size() == 1) return addresses;
  for (const std::string& address : addresses) {
    if (!IsIpv4WithPort(address)) {
      return absl::InvalidArgumentError(absl::StrCat("controller address \"", address,
                                                     "\": several addresses must each be IPv4 IP:PORT (a DNS name with "
                                                     "several addresses may stand for them all)"));
    }
  }
  return addresses;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> ControllerChannel(
    const std::string& servers, const std::shared_ptr<grpc::ChannelCredentials>& credentials,
    grpc::ChannelArguments arguments) {
  absl::StatusOr<std::vector<std::string>> addresses = ParseControllerAddresses(servers);
  if (!addresses.ok()) return addresses.status();
  if (addresses->size() == 1) return grpc::CreateCustomChannel(addresses->front(), credentials, arguments);
  const std::string& first = addresses->front();
  arguments.SetSslTargetNameOverride(first.substr(0, first.rfind(':')));
  arguments.SetString(GRPC_ARG_DEFAULT_AUTHORITY, first);
  arguments.SetLoadBalancingPolicyName("pick_first");
  // A controller that went away is noticed, and the next one tried, within a second or so.
  arguments.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  arguments.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  return grpc::CreateCustomChannel(absl::StrCat("ipv4:", absl::StrJoin(*addresses, ",")), credentials, arguments);
}

}  // namespace opctl
