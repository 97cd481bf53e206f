// Quoting for /bin/sh: the word comes through as exactly one argument, whatever it holds.
#pragma once

#include <string>

namespace opctl {

inline std::string ShellQuote(const std::string& word) {
  std::string quoted = "'";
  for (char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

}  // namespace opctl
