#include "agent/private_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace opctl::agent {

FILE* CreatePrivateFile(const std::string& path) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return nullptr;
  fchmod(fd, 0600);  // an existing file keeps its old mode through O_CREAT
  FILE* file = fdopen(fd, "wb");
  if (file == nullptr) close(fd);
  return file;
}

absl::Status SyncDirectory(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  int synced = fsync(fd);
  int error = errno;
  close(fd);
  if (synced != 0) return absl::InternalError(absl::StrCat("cannot sync ", path, ": ", std::strerror(error)));
  return absl::OkStatus();
}

}  // namespace opctl::agent
