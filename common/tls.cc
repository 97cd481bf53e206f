#include "common/tls.h"

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"

namespace opctl {
namespace {

absl::StatusOr<std::string> ReadPem(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read the ", what, " ", path));
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().find("-----BEGIN") == std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat(path, " is not PEM (the ", what, ")"));
  }
  return text.str();
}

// Sends the bearer token with every call.
class BearerToken : public grpc::MetadataCredentialsPlugin {
 public:
  explicit BearerToken(std::string token) : token_(std::move(token)) {}
  grpc::Status GetMetadata(grpc::string_ref, grpc::string_ref, const grpc::AuthContext&,
                           std::multimap<grpc::string, grpc::string>* metadata) override {
    metadata->insert({"authorization", absl::StrCat("Bearer ", token_)});
    return grpc::Status::OK;
  }

 private:
  const std::string token_;
};

}  // namespace

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> TlsServerCredentials(const TlsFiles& files,
                                                                              bool require_client_certificate) {
  absl::StatusOr<std::string> ca = ReadPem(files.ca, "client CA (--tls-client-ca)");
  absl::StatusOr<std::string> cert = ReadPem(files.cert, "certificate (--tls-cert)");
  absl::StatusOr<std::string> key = ReadPem(files.key, "key (--tls-key)");
  for (const auto* pem : {&ca, &cert, &key}) {
    if (!pem->ok()) return pem->status();
  }
  grpc::SslServerCredentialsOptions options(require_client_certificate
                                                ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
                                                : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = *ca;
  options.pem_key_cert_pairs.push_back({*key, *cert});
  return grpc::SslServerCredentials(options);
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> TlsChannelCredentials(const TlsFiles& files,
                                                                                const std::string& token) {
  absl::StatusOr<std::string> ca = ReadPem(files.ca, "CA certificate");
  if (!ca.ok()) return ca.status();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = *ca;
  if (!files.cert.empty()) {
    absl::StatusOr<std::string> cert = ReadPem(files.cert, "client certificate");
    if (!cert.ok()) return cert.status();
    absl::StatusOr<std::string> key = ReadPem(files.key, "client key");
    if (!key.ok()) return key.status();
    options.pem_cert_chain = *cert;
    options.pem_private_key = *key;
  }
  std::shared_ptr<grpc::ChannelCredentials> credentials = grpc::SslCredentials(options);
  if (token.empty()) return credentials;
  return grpc::CompositeChannelCredentials(credentials,
                                           grpc::MetadataCredentialsFromPlugin(std::make_unique<BearerToken>(token)));
}

std::string AgentServerName(const std::string& node) { return absl::StrCat(node, ".node.opctl"); }

bool PeerHasAgentCertificate(const grpc::AuthContext& auth) {
  for (const grpc::string_ref& subject : auth.FindPropertyValues(GRPC_X509_SUBJECT_PROPERTY_NAME)) {
    if (absl::StrContains(absl::string_view(subject.data(), subject.size()), kAgentsOrganization)) return true;
  }
  return false;
}

grpc::Status RequireControllerPeer(const grpc::ServerContextBase& context) {
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  std::vector<grpc::string_ref> names = auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
  if (auth->IsPeerAuthenticated() && names.size() == 1 && names[0] == kControllerCommonName &&
      !PeerHasAgentCertificate(*auth)) {
    return grpc::Status::OK;
  }
  return grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                      absl::StrCat("only the controller may call an agent's operations: it shows a certificate with "
                                   "CN=",
                                   kControllerCommonName, " from this installation's CA"));
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> AgentChannelCredentials(const TlsFiles& files) {
  if (files.ca.empty()) return grpc::InsecureChannelCredentials();
  return TlsChannelCredentials(files);
}

}  // namespace opctl
