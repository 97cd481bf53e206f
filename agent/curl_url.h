// Percent-encoding of a path or query part for dockerd's HTTP API (ids, names, filters), shared by
// the CurlDockerClient files.
#pragma once

#include <curl/curl.h>

#include <string>

namespace opctl::agent {

inline std::string UrlEscape(const std::string& text) {
  char* escaped = curl_easy_escape(nullptr, text.c_str(), static_cast<int>(text.size()));
  std::string result(escaped);
  curl_free(escaped);
  return result;
}

}  // namespace opctl::agent
