#include "common/host_path.h"

#include <filesystem>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/quote.h"

namespace opctl {
namespace {

// Each protected tree and why: mounting it, or any directory above it, gives a container the host.
const std::vector<ProtectedTree>& ProtectedTrees() {
  static const auto* trees = new std::vector<ProtectedTree>{
      {"/etc", "the host's configuration and secrets"},
      {"/proc", "the host's kernel and processes"},
      {"/sys", "the host's kernel and devices"},
      {"/boot", "the host's kernel and boot loader"},
      {"/dev", "the host's devices"},
      {"/root", "the host's administrator's home"},
      {"/usr", "the host's programs, which root runs"},
      {"/bin", "the host's programs, which root runs"},
      {"/sbin", "the host's programs, which root runs"},
      {"/lib", "the host's libraries, which root loads"},
      {"/lib64", "the host's libraries, which root loads"},
      {"/var/spool/cron", "the host's cron tables, which root runs"},
      {"/var/run/docker.sock", "the Docker socket, which is root on the host"},
      {"/run/docker.sock", "the Docker socket, which is root on the host"},
      {"/run/docker", "Docker's own state"},
      {"/var/lib/docker", "Docker's data: every container's files"},
      {"/run/containerd", "containerd's socket, which is root on the host"},
      {"/var/lib/containerd", "containerd's data: every container's files"},
      {"/run/systemd", "systemd's sockets, which are root on the host"},
      {"/var/lib/systemd", "systemd's state"},
      {"/run/dbus", "the system bus, through which systemd runs anything as root"},
      {"/var/run/dbus", "the system bus, through which systemd runs anything as root"},
      {"/var/lib/opctl", "opctl's own data: the controller's store, the agents' backups"},
      {"/run/opctl-agent", "the opctl agent's run directory"},
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

std::optional<std::string> NeverMountedReason(const std::string& path, const std::vector<ProtectedTree>& extra) {
  std::string normal = NormalHostPath(path);
  for (const std::vector<ProtectedTree>* trees : {&ProtectedTrees(), &extra}) {
    for (const ProtectedTree& protected_tree : *trees) {
      const std::string tree = NormalHostPath(protected_tree.path);
      if (tree.empty() || tree[0] != '/') continue;
      if (IsUnder(normal, tree)) {
        return absl::StrCat(Quote(normal), " is never mounted: ", tree, " is ", protected_tree.what);
      }
      if (IsUnder(tree, normal)) {
        return absl::StrCat(Quote(normal), " is never mounted: it holds ", tree, ", ", protected_tree.what);
      }
    }
  }
  return std::nullopt;
}

}  // namespace opctl
