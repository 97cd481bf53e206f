// A prepared SQLite statement that finalizes itself, with the few bind and column calls the store
// uses. Not thread-safe (one per use, on the store's writer thread or in Load).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>

namespace opctl::controller {

// A prepared statement that finalizes itself.
class Statement {
 public:
  Statement(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &statement_, nullptr); }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  bool ok() const { return statement_ != nullptr; }
  sqlite3_stmt* get() { return statement_; }
  void BindText(int index, const std::string& text) {
    sqlite3_bind_text(statement_, index, text.data(), static_cast<int>(text.size()), SQLITE_TRANSIENT);
  }
  void BindBlob(int index, const std::string& blob) {
    sqlite3_bind_blob(statement_, index, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
  }
  void BindInt(int index, int64_t value) { sqlite3_bind_int64(statement_, index, value); }
  std::string ColumnText(int index) {
    const void* data = sqlite3_column_blob(statement_, index);
    return std::string(static_cast<const char*>(data), sqlite3_column_bytes(statement_, index));
  }
  int64_t ColumnInt(int index) { return sqlite3_column_int64(statement_, index); }
  // Runs a statement that returns no rows, then resets it for the next bindings.
  int Run() {
    int code = sqlite3_step(statement_);
    sqlite3_reset(statement_);
    return code;
  }

 private:
  sqlite3_stmt* statement_ = nullptr;
};

}  // namespace opctl::controller
