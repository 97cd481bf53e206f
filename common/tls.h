// TLS for opctl's gRPC connections: credentials from PEM files (scripts/gen-certs.sh makes them).
// The controller serves TLS and asks for a client certificate, verified against its CA when sent:
// agents send one (their node name is its common name), people and tools send a bearer token.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"

namespace opctl {

struct TlsFiles {
  std::string ca;    // CA certificate: the peer must be signed by it
  std::string cert;  // this side's certificate (optional for a client)
  std::string key;   // its private key
};

// The controller's: serves `cert`/`key`, verifies client certificates against `ca` when sent.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsServerCredentials(const TlsFiles& files);
// A client's: trusts `ca`; presents `cert`/`key` when given (agents). `token`, when not empty, goes
// with every call as "authorization: Bearer TOKEN".
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsChannelCredentials(const TlsFiles& files,
                                                                                const std::string& token = "");

// What an agent uses toward the controller: TlsChannelCredentials(files), or plaintext when
// `files.ca` is empty (the agent's --insecure).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> AgentChannelCredentials(const TlsFiles& files);

}  // namespace opctl
