#include "cli/connection.h"

#include <yaml-cpp/yaml.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/controller_channel.h"
#include "common/tls.h"

namespace opctl::cli {
namespace {

std::string ConfigPath() {
  if (const char* path = std::getenv("OPCTL_CONFIG")) return path;
  const char* home = std::getenv("HOME");
  return absl::StrCat(home ? home : "", "/.opctl/config");
}

bool Truthy(const std::string& value) { return value == "1" || value == "true" || value == "yes"; }

// The config file's settings, when it exists. A relative ca is relative to the file.
absl::Status ReadConfig(const std::string& path, Connection& connection) {
  std::error_code error;
  if (!std::filesystem::exists(path, error)) return absl::OkStatus();
  try {
    YAML::Node config = YAML::LoadFile(path);
    if (!config.IsMap()) return absl::InvalidArgumentError(absl::StrCat(path, ": must be a mapping"));
    for (const auto& entry : config) {
      std::string key = entry.first.as<std::string>();
      if (key == "server" && entry.second.IsSequence()) {  // several controllers: server: [a, b, c]
        std::vector<std::string> servers;
        for (const auto& server : entry.second) servers.push_back(server.as<std::string>());
        connection.server = absl::StrJoin(servers, ",");
        continue;
      }
      std::string value = entry.second.as<std::string>();
      if (key == "server") {
        connection.server = value;
      } else if (key == "ca") {
        std::filesystem::path ca(value);
        connection.ca = ca.is_absolute() ? value : (std::filesystem::path(path).parent_path() / ca).string();
      } else if (key == "token") {
        connection.token = value;
      } else if (key == "insecure") {
        connection.insecure = Truthy(value);
      } else {
        return absl::InvalidArgumentError(absl::StrCat(path, ":", entry.first.Mark().line + 1, ": unknown key \"", key,
                                                       "\"; allowed: server, ca, token, insecure"));
      }
    }
  } catch (const YAML::Exception& error) {
    return absl::InvalidArgumentError(absl::StrCat(path, ":", error.mark.line + 1, ": ", error.msg));
  }
  return absl::OkStatus();
}

// `flag` if given, else the environment variable `variable`, else `fallback`.
std::string Pick(const Arguments& arguments, const std::string& flag, const char* variable,
                 const std::string& fallback) {
  if (arguments.Has(flag)) return arguments.Get(flag, fallback);
  if (const char* value = std::getenv(variable); value != nullptr && *value != '\0') return value;
  return fallback;
}

}  // namespace

absl::StatusOr<Connection> ResolveConnection(const Arguments& arguments) {
  Connection connection;
  if (absl::Status read = ReadConfig(ConfigPath(), connection); !read.ok()) return read;
  connection.server = Pick(arguments, "server", "OPCTL_SERVER", connection.server);
  if (absl::StatusOr<std::vector<std::string>> servers = ParseControllerAddresses(connection.server); !servers.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("--server: ", servers.status().message()));
  }
  connection.ca = Pick(arguments, "ca", "OPCTL_CA", connection.ca);
  connection.token = Pick(arguments, "token", "OPCTL_TOKEN", connection.token);
  const char* insecure_variable = std::getenv("OPCTL_INSECURE");
  connection.insecure = arguments.Has("insecure") || Truthy(insecure_variable ? insecure_variable : "") ||
                        (connection.insecure && connection.ca.empty());
  if (!connection.insecure && connection.ca.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no CA to check the controller's certificate: set ca: in ", ConfigPath(),
        ", --ca or $OPCTL_CA (scripts/gen-certs.sh makes ca.crt), or --insecure for a plaintext controller"));
  }
  return connection;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> CredentialsOf(const Connection& connection) {
  if (connection.insecure) return grpc::InsecureChannelCredentials();
  return TlsChannelCredentials({connection.ca, "", ""}, connection.token);
}

}  // namespace opctl::cli
