#include "common/log_driver.h"

#include <algorithm>
#include <set>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/quantity.h"
#include "common/quote.h"

namespace opctl {
namespace {

using validation_internal::Checker;

constexpr size_t kMaxOptions = 32;
constexpr size_t kMaxOptionValue = 1024;

const std::set<std::string> kAttributes = {"tag", "labels", "labels-regex", "env", "env-regex"};
// Docker's local copy of what a remote driver sends (dual logging), which `docker logs` reads.
const std::set<std::string> kCache = {"cache-disabled", "cache-max-size", "cache-max-file", "cache-compress"};
const std::set<std::string> kEveryDriver = {"mode", "max-buffer-size"};

// Each driver and its own options, as Docker documents them, in the order messages list them.
const std::vector<std::pair<std::string, std::set<std::string>>>& DriverOptions() {
  static const auto* options = new std::vector<std::pair<std::string, std::set<std::string>>>{
      {"json-file", {"compress"}},
      {"local", {"compress"}},
      {"journald", {}},
      {"syslog",
       {"syslog-address", "syslog-facility", "syslog-format", "syslog-tls-ca-cert", "syslog-tls-cert", "syslog-tls-key",
        "syslog-tls-skip-verify"}},
      {"gelf",
       {"gelf-address", "gelf-compression-type", "gelf-compression-level", "gelf-tcp-max-reconnect",
        "gelf-tcp-reconnect-delay"}},
      {"fluentd",
       {"fluentd-address", "fluentd-async", "fluentd-async-connect", "fluentd-buffer-limit", "fluentd-max-retries",
        "fluentd-retry-wait", "fluentd-sub-second-precision", "fluentd-request-ack"}},
      {"none", {}},
  };
  return *options;
}

// The driver's own options, or null when opctl does not take the driver.
const std::set<std::string>* OwnOptions(const std::string& driver) {
  for (const auto& [name, options] : DriverOptions())
    if (name == driver) return &options;
  return nullptr;
}

bool IsRemote(const std::string& driver) { return driver == "syslog" || driver == "gelf" || driver == "fluentd"; }

std::set<std::string> KnownOptions(const std::string& driver) {
  if (driver == "none") return {};
  std::set<std::string> known = *OwnOptions(driver);
  known.insert(kEveryDriver.begin(), kEveryDriver.end());
  if (driver != "local") known.insert(kAttributes.begin(), kAttributes.end());
  if (IsRemote(driver)) known.insert(kCache.begin(), kCache.end());
  return known;
}

// An address option: SCHEME://HOST:PORT with one of `schemes`, or unix:///PATH where allowed.
std::string AddressProblem(const std::string& value, const std::vector<std::string>& schemes) {
  size_t separator = value.find("://");
  std::string scheme = separator == std::string::npos ? "" : value.substr(0, separator);
  if (std::find(schemes.begin(), schemes.end(), scheme) == schemes.end())
    return absl::StrCat(Quote(value), " is not an address: ", absl::StrJoin(schemes, "://, "), "://...");
  std::string rest = value.substr(separator + 3);
  if (absl::StartsWith(scheme, "unix")) return rest.empty() || rest[0] != '/' ? "a unix address needs a path" : "";
  size_t colon = rest.rfind(':');
  int port = 0;
  if (colon == std::string::npos || colon == 0 || !absl::SimpleAtoi(rest.substr(colon + 1), &port) || port < 1 ||
      port > 65535)
    return absl::StrCat(Quote(value), " needs HOST:PORT after ", scheme, "://");
  return "";
}

std::string ValueProblem(const std::string& key, const std::string& value) {
  if (value.size() > kMaxOptionValue) return absl::StrCat("is longer than ", kMaxOptionValue, " bytes");
  if (value.find_first_of(std::string("\n\r\0", 3)) != std::string::npos) return "holds a line break or NUL";
  if (key == "syslog-address") return AddressProblem(value, {"udp", "tcp", "tcp+tls", "unix", "unixgram"});
  if (key == "gelf-address") return AddressProblem(value, {"udp", "tcp"});
  if (key == "fluentd-address" && absl::StrContains(value, "://")) return AddressProblem(value, {"tcp", "unix"});
  if (key == "mode" && value != "blocking" && value != "non-blocking")
    return absl::StrCat(Quote(value), " is not one of: blocking, non-blocking");
  if ((key == "cache-disabled" || key == "compress" || key == "cache-compress") && value != "true" && value != "false")
    return absl::StrCat(Quote(value), " is not true or false");
  if (key == "max-buffer-size" || key == "cache-max-size") {
    absl::StatusOr<int64_t> bytes = ParseMemoryBytes(value);
    if (!bytes.ok()) return std::string(bytes.status().message());
  }
  return "";
}

void ValidateOptions(Checker& check, const v1::LogOptions& logs, const std::string& driver, const std::string& field) {
  if (static_cast<size_t>(logs.options_size()) > kMaxOptions)
    return check.Fail(field + ".options",
                      absl::StrCat("has ", logs.options_size(), " options (at most ", kMaxOptions, ")"));
  std::set<std::string> known = KnownOptions(driver);
  for (const auto& [key, value] : logs.options()) {
    std::string path = absl::StrCat(field, ".options.", Clip(key));
    if (key == "max-size" || key == "max-file") {
      check.Fail(path, absl::StrCat("is set by ", field, key == "max-size" ? ".maxSize" : ".maxFiles"));
    } else if (!known.count(key)) {
      check.Fail(path, known.empty() ? absl::StrCat("the ", driver, " driver takes no options")
                                     : absl::StrCat(Quote(key), " is not an option of the ", driver,
                                                    " driver; it has: ", absl::StrJoin(known, ", ")));
    } else if (std::string problem = ValueProblem(key, value); !problem.empty()) {
      check.Fail(path, problem);
    }
  }
  if (driver == "gelf" && !logs.options().contains("gelf-address"))
    check.Fail(field + ".options.gelf-address", "is required by the gelf driver (udp://HOST:PORT)");
}

}  // namespace

std::string LogDriverOf(const v1::LogOptions& logs) {
  return logs.driver().empty() ? kDefaultLogDriver : logs.driver();
}

bool LogDriverRotates(const std::string& driver) { return driver == "json-file" || driver == "local"; }

const std::vector<std::string>& LogDrivers() {
  static const auto* drivers = [] {
    auto* names = new std::vector<std::string>();
    for (const auto& [name, options] : DriverOptions()) names->push_back(name);
    return names;
  }();
  return *drivers;
}

void validation_internal::ValidateLogOptions(Checker& check, const v1::LogOptions& logs, const std::string& field) {
  std::string driver = LogDriverOf(logs);
  if (OwnOptions(driver) == nullptr)
    return check.Fail(field + ".driver",
                      absl::StrCat(Quote(driver), " is not one of: ", absl::StrJoin(LogDrivers(), ", ")));
  check.Quantity(field + ".maxSize", logs.max_size(), ParseMemoryBytes);
  if (logs.max_files() < 0 || logs.max_files() > 100)
    check.Fail(field + ".maxFiles", absl::StrCat(logs.max_files(), " is out of range (1 to 100)"));
  if (!LogDriverRotates(driver) && (!logs.max_size().empty() || logs.max_files() != 0)) {
    check.Fail(logs.max_size().empty() ? field + ".maxFiles" : field + ".maxSize",
               absl::StrCat("only json-file and local rotate files on the host, not ", driver));
  }
  ValidateOptions(check, logs, driver, field);
}

}  // namespace opctl
