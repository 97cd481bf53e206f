#include "tests/support/tls.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/tls.h"
#include "tests/support/process.h"

namespace opctl::testing {
namespace {

std::string MakeNodeCertificate(const std::string& node) {
  const TestCertificates& tls = TestTls();
  std::string cert = absl::StrCat(tls.dir, "/agent-", node, ".crt");
  std::ifstream existing(cert);
  if (!existing) {
    CommandResult made = RunCommand({SourcePath("scripts/gen-certs.sh"), tls.dir, node});
    if (made.exit_code != 0) {
      std::fprintf(stderr, "gen-certs.sh for node %s failed: %s\n", node.c_str(), made.err.c_str());
      std::abort();
    }
  }
  return cert;
}

// The node's files: CA, certificate and key.
TlsFiles NodeFiles(const std::string& node) {
  std::string cert = MakeNodeCertificate(node);
  return {TestTls().ca, cert, cert.substr(0, cert.size() - 4) + ".key"};
}

}  // namespace

const TestCertificates& TestTls() {
  static const TestCertificates* certificates = [] {
    auto* made = new TestCertificates;
    const char* base = std::getenv("TMPDIR");
    made->dir = absl::StrCat(base ? base : "/tmp", "/opctl-test-certs");
    CommandResult result = RunCommand({SourcePath("scripts/gen-certs.sh"), made->dir});
    if (result.exit_code != 0) {
      std::fprintf(stderr, "gen-certs.sh failed: %s\n", result.err.c_str());
      std::abort();
    }
    made->ca = made->dir + "/ca.crt";
    made->controller_cert = made->dir + "/controller.crt";
    made->controller_key = made->dir + "/controller.key";
    made->tokens = made->dir + "/tokens.csv";
    std::ifstream tokens(made->tokens);
    std::string line;
    while (std::getline(tokens, line)) {
      std::vector<std::string> fields = absl::StrSplit(line, ',');
      if (fields.size() != 3 || line[0] == '#') continue;
      if (fields[2] == "admin") made->admin_token = fields[0];
      if (fields[2] == "view") made->view_token = fields[0];
      if (fields[2] == "edit") made->edit_token = fields[0];
    }
    return made;
  }();
  return *certificates;
}

std::vector<std::string> ControllerTlsFlags() {
  const TestCertificates& tls = TestTls();
  return {"--tls-cert=" + tls.controller_cert, "--tls-key=" + tls.controller_key, "--tls-client-ca=" + tls.ca,
          "--tokens=" + tls.tokens};
}

std::vector<std::string> AgentTlsFlags(const std::string& node) {
  TlsFiles files = NodeFiles(node);
  return {"--tls-ca=" + files.ca, "--tls-cert=" + files.cert, "--tls-key=" + files.key};
}

std::shared_ptr<grpc::ChannelCredentials> UserCredentials(const std::string& token) {
  const TestCertificates& tls = TestTls();
  return *TlsChannelCredentials({tls.ca, "", ""}, token.empty() ? tls.admin_token : token);
}

std::shared_ptr<grpc::ChannelCredentials> AgentCredentials(const std::string& node) {
  return *TlsChannelCredentials(NodeFiles(node));
}

}  // namespace opctl::testing
