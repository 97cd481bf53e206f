// Writes a tar file holding one regular file whose size is known only at the end (a volume archive
// arriving over gRPC): the header's place is kept, the data appended, and the header written last.
// Docker's PUT /containers/{id}/archive takes such a file to drop the archive into a helper container.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "absl/status/status.h"

namespace opctl::agent {

class TarFileWriter {
 public:
  TarFileWriter() = default;
  TarFileWriter(const TarFileWriter&) = delete;
  TarFileWriter& operator=(const TarFileWriter&) = delete;
  ~TarFileWriter();

  // Creates `path`; the one entry will be called `entry_name` (at most 99 bytes), mode 0644, root.
  absl::Status Open(const std::string& path, const std::string& entry_name);
  absl::Status Append(std::string_view data);
  // Pads, ends the archive and writes the header. The file is complete only after this.
  absl::Status Finish();
  int64_t data_bytes() const { return size_; }

 private:
  FILE* file_ = nullptr;
  std::string path_, entry_name_;
  int64_t size_ = 0;
};

// The 512-byte ustar header of a regular file (exposed for tests).
std::string TarHeader(const std::string& name, int64_t size, int64_t mtime_unix);

}  // namespace opctl::agent
