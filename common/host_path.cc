#include "common/host_path.h"

#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"

namespace opctl {
namespace {

// Each protected tree and why: mounting it, or any directory above it, gives a container the host.
const std::vector<std::pair<std::string, std::string>>& ProtectedTrees() {
  static const auto* trees = new std::vector<std::pair<std::string, std::string>>{
      {"/etc", "the host's configuration and secrets"},
      {"/proc", "the host's kernel and processes"},
      {"/sys", "the host's kernel and devices"},
      {"/boot", "the host's kernel and boot loader"},
      {"/dev", "the host's devices"},
      {"/root", "the host's administrator's home"},
      {"/var/run/docker.sock", "the Docker socket, which is root on the host"},
      {"/run/docker.sock", "the Docker socket, which is root on the host"},
      {"/run/docker", "Docker's own state"},
      {"/run/containerd", "containerd's socket, which is root on the host"},
      {"/var/lib/docker", "Docker's data: every container's files"},
  };
  return *trees;
}

}  // namespace

std::string NormalHostPath(const std::string& path) {
  std::string normal = std::filesystem::path(path).lexically_normal().string();
  while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
  return normal;
}

bool IsUnder(const std::string& path, const std::string& root) {
  if (root == "/") return true;
  return path == root ||
         (path.size() > root.size() && path.compare(0, root.size(), root) == 0 && path[root.size()] == '/');
}

std::optional<std::string> NeverMountedReason(const std::string& path) {
  std::string normal = NormalHostPath(path);
  for (const auto& [tree, what] : ProtectedTrees()) {
    if (IsUnder(normal, tree)) return absl::StrCat("\"", normal, "\" is never mounted: ", tree, " is ", what);
    if (IsUnder(tree, normal)) {
      return absl::StrCat("\"", normal, "\" is never mounted: it holds ", tree, ", ", what);
    }
  }
  return std::nullopt;
}

}  // namespace opctl
