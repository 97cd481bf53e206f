// Who is calling, and may they? Two kinds of callers reach the controller over TLS:
//  - agents, by a client certificate signed by the controller's CA; the certificate's common name is
//    the node's name, and an agent may only read what its node runs and write its node's status (as
//    Kubernetes' node authoriser does);
//  - people and tools, by a bearer token from the controller's tokens file ("token,user,role" lines),
//    with a role: view (read), edit (also apply, delete, scale, back up) or admin (also cordon, drain,
//    restore).
// With --insecure there is no identity to check: every call is allowed (and the controller says so).
//
// Thread-safe (immutable once loaded).
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "grpcpp/server_context.h"

namespace opctl::controller {

enum class Role { kView = 0, kEdit = 1, kAdmin = 2 };

struct Caller {
  std::string name;  // the user, or the node for an agent
  bool agent = false;
  Role role = Role::kView;  // users only
};

class Authorizer {
 public:
  // Everyone may do anything: for --insecure, where no caller can prove who it is.
  static Authorizer AllowAll();
  // Agents by certificate, users by the tokens in `tokens_file` (empty: no users, agents only).
  // FAILED_PRECONDITION when others may read or write the file (its mode must be 0600 or tighter).
  static absl::StatusOr<Authorizer> Load(const std::string& tokens_file);

  // The caller of `context`; UNAUTHENTICATED when it shows neither a certificate nor a known token.
  absl::StatusOr<Caller> Identify(const grpc::ServerContextBase& context) const;
  // OK when `caller` is a user with at least `role`; PERMISSION_DENIED naming `action` otherwise.
  absl::Status RequireRole(const Caller& caller, Role role, const std::string& action) const;
  // OK when `caller` is the agent of `node`; PERMISSION_DENIED otherwise.
  absl::Status RequireAgentOf(const Caller& caller, const std::string& node, const std::string& action) const;

  bool enforcing() const { return enforcing_; }

 private:
  bool enforcing_ = true;
  std::map<std::string, Caller> users_by_token_;  // by SHA-256 of the token
};

std::string RoleName(Role role);

}  // namespace opctl::controller
