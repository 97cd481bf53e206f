// TLS for opctl's gRPC connections: credentials from PEM files (scripts/gen-certs.sh makes them).
// The controller serves TLS and asks for a client certificate, verified against its CA when sent:
// agents send one (their node name is its common name), people and tools send a bearer token.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server_context.h"

namespace opctl {

struct TlsFiles {
  std::string ca;    // CA certificate: the peer must be signed by it
  std::string cert;  // this side's certificate (optional for a client)
  std::string key;   // its private key
};

// Serves `cert`/`key` and verifies client certificates against `ca`: when sent (the controller, whose
// users send tokens instead), or always with `require_client_certificate` (an agent's operations).
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsServerCredentials(const TlsFiles& files,
                                                                              bool require_client_certificate = false);
// A client's: trusts `ca`; presents `cert`/`key` when given (agents). `token`, when not empty, goes
// with every call as "authorization: Bearer TOKEN".
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsChannelCredentials(const TlsFiles& files,
                                                                                const std::string& token = "");

// The subject and common name the controller's certificate carries (scripts/gen-certs.sh).
inline constexpr char kControllerCommonName[] = "opctl-controller";
inline constexpr char kAgentsOrganization[] = "O=opctl:agents";

// The name an agent's operations port proves with its certificate: "NODE.node.opctl" (its SAN), a
// name no host has, so a node's certificate can never pass for a host the CLI dials (the controller).
std::string AgentServerName(const std::string& node);

// Whether the peer showed a certificate made for an agent (subject O=opctl:agents).
bool PeerHasAgentCertificate(const grpc::AuthContext& auth);

// OK when the peer of `context` showed the controller's certificate (signed by the CA the server
// trusts, common name kControllerCommonName, not an agent's); PERMISSION_DENIED saying so otherwise.
grpc::Status RequireControllerPeer(const grpc::ServerContextBase& context);

// What an agent uses toward the controller: TlsChannelCredentials(files), or plaintext when
// `files.ca` is empty (the agent's --insecure).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> AgentChannelCredentials(const TlsFiles& files);

}  // namespace opctl
