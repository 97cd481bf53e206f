// Where the CLI connects and how: the controller's address, TLS (the CA that signed the controller's
// certificate) and the bearer token, from flags (--server, --ca, --token, --insecure), else the
// environment (OPCTL_SERVER, OPCTL_CA, OPCTL_TOKEN, OPCTL_INSECURE), else the config file
// ($OPCTL_CONFIG or ~/.opctl/config: a YAML mapping with server, ca, token, insecure), as kubectl
// reads its kubeconfig. Plaintext only when asked for by name.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "cli/arguments.h"
#include "grpcpp/security/credentials.h"

namespace opctl::cli {

struct Connection {
  std::string server = "127.0.0.1:7070";
  std::string ca;     // path; empty with insecure
  std::string token;  // may be empty (then the controller refuses most calls)
  bool insecure = false;
};

absl::StatusOr<Connection> ResolveConnection(const Arguments& arguments);
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> CredentialsOf(const Connection& connection);

}  // namespace opctl::cli
