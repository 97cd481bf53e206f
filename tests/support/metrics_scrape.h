// Reading a controller's or agent's Prometheus endpoint in tests, as Prometheus would: over HTTP.
#pragma once

#include <string>

namespace opctl::testing {

// The HOST:PORT after "metrics on http://" in a process's output, or "".
std::string MetricsAddress(const std::string& output);
// GET http://ADDRESS/metrics with curl; the body, or "" when it fails.
std::string Scrape(const std::string& address);
// The value of the sample `series` (its name and labels exactly as exposed) in `scrape`, or -1.
double Sample(const std::string& scrape, const std::string& series);

}  // namespace opctl::testing
