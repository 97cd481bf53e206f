// TLS for tests, as users run opctl: one CA, controller certificate and tokens per test machine
// (scripts/gen-certs.sh into $TMPDIR/opctl-test-certs, made once, safe under parallel ctest), and a
// client certificate per node for agents.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "grpcpp/security/credentials.h"

namespace opctl::testing {

struct TestCertificates {
  std::string dir;
  std::string ca, controller_cert, controller_key, tokens;
  std::string admin_token, view_token, edit_token;
};

// Made on first use.
const TestCertificates& TestTls();
// opctl-controller's flags for TLS and the test tokens.
std::vector<std::string> ControllerTlsFlags();
// opctl-agent's flags for `node` (its certificate is made on first use).
std::vector<std::string> AgentTlsFlags(const std::string& node);
// A client with the admin token (or `token`), for gRPC stubs in tests.
std::shared_ptr<grpc::ChannelCredentials> UserCredentials(const std::string& token = "");
// An agent of `node`, by its certificate.
std::shared_ptr<grpc::ChannelCredentials> AgentCredentials(const std::string& node);

}  // namespace opctl::testing
