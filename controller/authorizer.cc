#include "controller/authorizer.h"

#include <openssl/sha.h>
#include <sys/stat.h>

#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/quote.h"
#include "common/tls.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/security/auth_context.h"

namespace opctl::controller {
namespace {

constexpr char kBearerPrefix[] = "Bearer ";

std::string TokenDigest(absl::string_view token) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

}  // namespace

std::string RoleName(Role role) {
  switch (role) {
    case Role::kView:
      return "view";
    case Role::kEdit:
      return "edit";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

Authorizer Authorizer::AllowAll() {
  Authorizer authorizer;
  authorizer.enforcing_ = false;
  return authorizer;
}

absl::StatusOr<Authorizer> Authorizer::Load(const std::string& tokens_file) {
  Authorizer authorizer;
  if (tokens_file.empty()) return authorizer;
  struct stat info;
  if (stat(tokens_file.c_str(), &info) != 0) {
    return absl::FailedPreconditionError(absl::StrCat("cannot read the tokens file ", tokens_file));
  }
  // Anyone who can read it is admin: as ssh does with a private key, refuse a file others may read.
  if ((info.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(
        absl::StrFormat("the tokens file %s may be read or written by others (mode %04o): chmod 600 it", tokens_file,
                        info.st_mode & 07777));
  }
  std::ifstream in(tokens_file);
  if (!in) return absl::FailedPreconditionError(absl::StrCat("cannot read the tokens file ", tokens_file));
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    absl::string_view text = absl::StripAsciiWhitespace(line);
    if (text.empty() || absl::StartsWith(text, "#")) continue;
    std::vector<std::string> fields = absl::StrSplit(text, ',');
    auto bad = [&](const std::string& why) {
      return absl::InvalidArgumentError(absl::StrCat(tokens_file, ":", number, ": ", why));
    };
    if (fields.size() != 3) return bad("want token,user,role");
    if (fields[0].size() < 16) return bad("the token is shorter than 16 characters");
    Caller user{fields[1], false, Role::kView};
    if (fields[2] == "edit") {
      user.role = Role::kEdit;
    } else if (fields[2] == "admin") {
      user.role = Role::kAdmin;
    } else if (fields[2] != "view") {
      return bad(absl::StrCat("role \"", fields[2], "\" is not view, edit or admin"));
    }
    if (!authorizer.users_by_token_.emplace(TokenDigest(fields[0]), user).second) {
      return bad("the token is listed twice");
    }
  }
  return authorizer;
}

absl::StatusOr<Caller> Authorizer::Identify(const grpc::ServerContextBase& context) const {
  if (!enforcing_) return Caller{"anonymous", false, Role::kAdmin};
  // A client certificate verified against the CA: an agent, named by the certificate's common name.
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth != nullptr && auth->IsPeerAuthenticated()) {
    // Only certificates made for agents (O=opctl:agents), not the controller's own.
    std::vector<grpc::string_ref> names = auth->FindPropertyValues(GRPC_X509_CN_PROPERTY_NAME);
    if (!PeerHasAgentCertificate(*auth) || names.empty()) {
      return absl::PermissionDeniedError(
          "the client certificate is not an agent's (O=opctl:agents, CN=node name; scripts/gen-certs.sh makes them)");
    }
    return Caller{std::string(names[0].data(), names[0].size()), true, Role::kView};
  }
  auto header = context.client_metadata().find("authorization");
  if (header == context.client_metadata().end()) {
    return absl::UnauthenticatedError(
        "no credentials: send a bearer token (opctl --token, $OPCTL_TOKEN or token: in ~/.opctl/config) or, "
        "for an agent, a client certificate signed by the controller's CA");
  }
  absl::string_view value(header->second.data(), header->second.size());
  if (!absl::ConsumePrefix(&value, kBearerPrefix)) {
    return absl::UnauthenticatedError("the authorization header must be \"Bearer TOKEN\"");
  }
  // Looked up by digest: comparing the secret itself would leak through timing how much of a guess
  // matched; the digest of a guess tells nothing about the real token.
  auto user = users_by_token_.find(TokenDigest(value));
  if (user == users_by_token_.end()) {
    return absl::UnauthenticatedError("the bearer token is not one this controller knows (see its --tokens file)");
  }
  return user->second;
}

absl::Status Authorizer::RequireRole(const Caller& caller, Role role, const std::string& action) const {
  if (!enforcing_) return absl::OkStatus();
  if (caller.agent) {
    return absl::PermissionDeniedError(absl::StrCat("the agent of node ", caller.name, " may not ", action,
                                                    ": agents only read what their node ",
                                                    "runs and write its status"));
  }
  if (caller.role >= role) return absl::OkStatus();
  return absl::PermissionDeniedError(absl::StrCat("user ", caller.name, " (role ", RoleName(caller.role), ") may not ",
                                                  action, ": that needs role ", RoleName(role)));
}

absl::Status Authorizer::RequireAgentOf(const Caller& caller, const std::string& requested_node,
                                        const std::string& action) const {
  if (!enforcing_) return absl::OkStatus();
  if (caller.agent && caller.name == requested_node) return absl::OkStatus();
  const std::string node = Clip(requested_node);  // from the request: quoted short
  if (!caller.agent) {
    return absl::PermissionDeniedError(
        absl::StrCat("user ", caller.name, " may not ", action, ": only the agent of node ", node, " may"));
  }
  return absl::PermissionDeniedError(
      absl::StrCat("the agent of node ", caller.name, " may not ", action, " for node ", node));
}

}  // namespace opctl::controller
