#include "agent/tar_writer.h"

#include <cstring>
#include <ctime>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "agent/private_files.h"

namespace opctl::agent {
namespace {

constexpr size_t kBlock = 512;

// An octal field of `width` bytes (digits, then NUL); sizes too big for octal use GNU base-256.
void PutNumber(char* field, size_t width, int64_t value) {
  std::string octal = absl::StrFormat("%0*o", static_cast<int>(width - 1), value);
  if (octal.size() <= width - 1) {
    std::memcpy(field, octal.data(), octal.size());
    return;
  }
  std::memset(field, 0, width);
  field[0] = static_cast<char>(0x80);
  for (size_t i = width - 1; i > 0 && value > 0; --i, value >>= 8) field[i] = static_cast<char>(value & 0xff);
}

}  // namespace

std::string TarHeader(const std::string& name, int64_t size, int64_t mtime_unix) {
  std::string header(kBlock, '\0');
  char* h = header.data();
  std::memcpy(h, name.data(), std::min<size_t>(name.size(), 99));
  PutNumber(h + 100, 8, 0644);
  PutNumber(h + 108, 8, 0);  // uid
  PutNumber(h + 116, 8, 0);  // gid
  PutNumber(h + 124, 12, size);
  PutNumber(h + 136, 12, mtime_unix);
  std::memset(h + 148, ' ', 8);  // checksum counts as spaces while summing
  h[156] = '0';                  // regular file
  std::memcpy(h + 257, "ustar", 6);
  std::memcpy(h + 263, "00", 2);
  unsigned sum = 0;
  for (unsigned char byte : header) sum += byte;
  std::string checksum = absl::StrFormat("%06o", sum);
  std::memcpy(h + 148, checksum.data(), 6);
  h[154] = '\0';
  h[155] = ' ';
  return header;
}

TarFileWriter::~TarFileWriter() {
  if (file_ != nullptr) std::fclose(file_);
}

absl::Status TarFileWriter::Open(const std::string& path, const std::string& entry_name) {
  if (entry_name.empty() || entry_name.size() > 99) return absl::InvalidArgumentError("tar entry name too long");
  file_ = CreatePrivateFile(path);  // the volume's data: for the agent's eyes only
  if (file_ == nullptr) return absl::InternalError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  path_ = path;
  entry_name_ = entry_name;
  // The header's place; Finish writes it once the size is known.
  if (absl::Status reserved = Append(std::string(kBlock, '\0')); !reserved.ok()) return reserved;
  size_ = 0;
  return absl::OkStatus();
}

absl::Status TarFileWriter::Append(std::string_view data) {
  if (file_ == nullptr) return absl::FailedPreconditionError("tar file not open");
  if (std::fwrite(data.data(), 1, data.size(), file_) != data.size()) {
    return absl::InternalError(absl::StrCat("cannot write ", path_, ": ", std::strerror(errno)));
  }
  size_ += static_cast<int64_t>(data.size());
  return absl::OkStatus();
}

absl::Status TarFileWriter::Finish() {
  int64_t data = size_;
  std::string trailer((kBlock - data % kBlock) % kBlock + 2 * kBlock, '\0');
  if (absl::Status padded = Append(trailer); !padded.ok()) return padded;
  std::string header = TarHeader(entry_name_, data, std::time(nullptr));
  bool ok = std::fseek(file_, 0, SEEK_SET) == 0 && std::fwrite(header.data(), 1, kBlock, file_) == kBlock &&
            std::fflush(file_) == 0;
  std::fclose(file_);
  file_ = nullptr;
  size_ = data;
  return ok ? absl::OkStatus() : absl::InternalError(absl::StrCat("cannot finish ", path_));
}

}  // namespace opctl::agent
