#include "cli/migrate/compose_import.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/ipv4.h"
#include "common/object.h"
#include "common/quantity.h"
#include "common/validation.h"

namespace opctl::cli {
namespace {

// A YAML node and the file it came from: what every message points at.
struct Located {
  YAML::Node node;
  const std::string* file = nullptr;
  int Line() const { return node.Mark().line + 1; }
  std::optional<Located> Child(const std::string& key) const {
    if (!node.IsMap() || !node[key]) return std::nullopt;
    return Located{node[key], file};
  }
};

class Reporter {
 public:
  explicit Reporter(ConvertedCompose& out) : out_(out) {}
  void Warn(const Located& at, const std::string& subject, const std::string& message) {
    out_.warnings.push_back(absl::StrCat(*at.file, ":", at.Line(), ": ", subject, ": ", message));
  }
  void Error(const Located& at, const std::string& subject, const std::string& message) {
    out_.errors.push_back(absl::StrCat(*at.file, ":", at.Line(), ": ", subject, ": ", message));
  }
  void Error(const std::string& message) { out_.errors.push_back(message); }
  void Warn(const std::string& message) { out_.warnings.push_back(message); }
  bool failed() const { return !out_.errors.empty(); }

 private:
  ConvertedCompose& out_;
};

// ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?message}, $VAR and $$, as compose interpolates.
// Done on the text, which keeps every line where it was.
std::string Interpolate(const std::string& text, const ComposeFile& file, const ComposeOptions& options,
                        Reporter& report) {
  std::string out;
  int line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') ++line;
    if (c != '$' || i + 1 == text.size()) {
      out += c;
      continue;
    }
    if (text[i + 1] == '$') {
      out += '$';
      ++i;
      continue;
    }
    std::string name, fallback, mode;
    size_t end = i + 1;
    if (text[end] == '{') {
      size_t close = text.find('}', end);
      if (close == std::string::npos || text.substr(end, close - end).find('\n') != std::string::npos) {
        report.Error(absl::StrCat(file.path, ":", line, ": interpolation: \"${\" is not closed (write $$ for a $)"));
        return text;
      }
      std::string inner = text.substr(end + 1, close - end - 1);
      size_t op = inner.find_first_of(":-?");
      name = inner.substr(0, op);
      if (op != std::string::npos) {
        mode = inner[op] == ':' ? inner.substr(op, 2) : inner.substr(op, 1);
        fallback = inner.substr(op + mode.size());
      }
      end = close + 1;
    } else {
      while (end < text.size() && (std::isalnum(static_cast<unsigned char>(text[end])) || text[end] == '_')) ++end;
      name = text.substr(i + 1, end - i - 1);
      if (name.empty()) {
        out += c;
        continue;
      }
    }
    auto found = options.variables.find(name);
    bool set = found != options.variables.end();
    bool empty = !set || found->second.empty();
    if ((mode == ":-" && empty) || (mode == "-" && !set)) {
      out += fallback;
    } else if ((mode == ":?" && empty) || (mode == "?" && !set)) {
      report.Error(absl::StrCat(file.path, ":", line, ": interpolation: ", name, " is required: ", fallback));
    } else if (set) {
      out += found->second;
    } else {
      report.Warn(absl::StrCat(file.path, ":", line, ": interpolation: ", name,
                               " is not set; an empty string is used, as compose does"));
    }
    i = end - 1;
  }
  return out;
}

std::optional<std::string> ScalarOf(const Located& at, const std::string& subject, Reporter& report) {
  if (!at.node.IsScalar()) {
    report.Error(at, subject, "must be a single value");
    return std::nullopt;
  }
  return at.node.Scalar();
}

// A list of strings, or (for command and entrypoint) one string split as a shell would.
std::vector<std::string> WordsOf(const Located& at, const std::string& subject, Reporter& report, bool split) {
  std::vector<std::string> words;
  if (at.node.IsScalar() && split) return SplitCommandLine(at.node.Scalar());
  if (!at.node.IsSequence()) {
    report.Error(at, subject, split ? "must be a string or a list of strings" : "must be a list of strings");
    return words;
  }
  for (const YAML::Node& word : at.node) {
    if (!word.IsScalar()) {
      report.Error(Located{word, at.file}, subject, "must hold strings only");
      return {};
    }
    words.push_back(word.Scalar());
  }
  return words;
}

// environment and labels: a map, or a list of KEY=VALUE. A key without a value takes the shell's
// value in compose; opctl has no shell at apply time, so it is left out with a warning.
void ReadKeyValues(const Located& at, const std::string& subject, std::map<std::string, std::string>& into,
                   std::vector<std::string>& order, Reporter& report) {
  auto put = [&](const std::string& key, const std::string& value) {
    if (into.emplace(key, value).second) {
      order.push_back(key);
    } else {
      into[key] = value;
    }
  };
  if (at.node.IsMap()) {
    for (const auto& entry : at.node) {
      std::string key = entry.first.Scalar();
      if (entry.second.IsNull()) {
        report.Warn(Located{entry.first, at.file}, subject,
                    absl::StrCat(key, " has no value (compose takes the shell's); left out"));
        continue;
      }
      if (!entry.second.IsScalar()) {
        report.Error(Located{entry.second, at.file}, subject, absl::StrCat(key, " must be a single value"));
        continue;
      }
      put(key, entry.second.Scalar());
    }
    return;
  }
  for (const std::string& item : WordsOf(at, subject, report, false)) {
    size_t equals = item.find('=');
    if (equals == std::string::npos) {
      report.Warn(at, subject, absl::StrCat(item, " has no value (compose takes the shell's); left out"));
      continue;
    }
    put(item.substr(0, equals), item.substr(equals + 1));
  }
}

std::string FolderOf(const std::string& path) {
  std::filesystem::path folder = std::filesystem::path(path).parent_path();
  return folder.empty() ? "." : folder.string();
}

std::string Resolve(const std::string& file, const std::string& path) {
  std::filesystem::path resolved(path);
  if (!path.empty() && path[0] == '~')
    resolved = std::string(std::getenv("HOME") ? std::getenv("HOME") : "") + path.substr(1);
  if (resolved.is_relative()) resolved = std::filesystem::path(FolderOf(file)) / resolved;
  return std::filesystem::absolute(resolved).lexically_normal().string();
}

// The project name compose would pick: the folder's name, lower case, letters, digits, - and _.
std::string ProjectName(const std::string& file) {
  std::string folder = std::filesystem::absolute(FolderOf(file)).lexically_normal().filename().string();
  std::string name;
  for (char c : absl::AsciiStrToLower(folder)) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_') name += c;
  }
  return name.empty() ? "default" : name;
}

// Fields opctl has no place for, and why; anything else not handled below is not compose at all.
const std::map<std::string, std::string>& UnmappedFields() {
  static const auto* fields = new std::map<std::string, std::string>{
      {"container_name", "opctl names containers NAME-ORDINAL"},
      {"depends_on", "opctl starts every Service at once and restarts what fails; gate on health checks instead"},
      {"expose", "not needed: containers on one Network reach every port"},
      {"hostname", "the container's hostname is its Docker id"},
      {"tmpfs", "no tmpfs mounts in opctl"},
      {"stop_grace_period", "the agent's --pre-stop-timeout applies"},
      {"stop_signal", "no stop signal in opctl"},
      {"sysctls", "no sysctls in opctl"},
      {"ulimits", "no ulimits in opctl"},
      {"dns", "Docker's own DNS is used"},
      {"extra_hosts", "no extra hosts in opctl"},
      {"links", "legacy links do not exist in opctl"},
      {"devices", "no devices in opctl"},
      {"security_opt", "no security options in opctl"},
      {"init", "no init process in opctl"},
      {"shm_size", "no shm size in opctl"},
      {"cpu_shares", "use cpus"},
      {"cpuset", "no CPU pinning in opctl"},
      {"stdin_open", "opctl containers have no stdin"},
      {"tty", "opctl containers have no TTY"},
      {"secrets", "no Secrets in opctl yet"},
      {"configs", "no Configs in opctl yet"},
      {"volumes_from", "name the Volumes instead"},
      {"ipc", "no IPC namespace sharing in opctl"},
      {"mac_address", "opctl derives MAC addresses from IP addresses"},
      {"platform", "the node's platform is used"},
      {"pull_policy", "opctl runs images present on the node"},
      {"profiles", "every Service of the file is converted"},
  };
  return *fields;
}

class ServiceConverter {
 public:
  ServiceConverter(std::string name, std::vector<Located> layers, const std::set<std::string>& networks,
                   const std::set<std::string>& volumes, std::string default_network, Reporter& report)
      : name_(std::move(name)),
        layers_(std::move(layers)),
        networks_(networks),
        volumes_(volumes),
        default_network_(std::move(default_network)),
        report_(report),
        subject_("service/" + name_) {}

  v1::Service Convert() {
    service_.mutable_metadata()->set_name(name_);
    service_.mutable_spec()->set_replicas(1);
    CheckFields();
    Image();
    Commands();
    Environment();
    Plain();
    Ports();
    Volumes();
    Networks();
    Resources();
    Health();
    Restart(Find("restart"), false);
    Security();
    Deploy();
    Logging();
    return service_;
  }

 private:
  std::optional<Located> Find(const std::string& key) const {
    for (auto layer = layers_.rbegin(); layer != layers_.rend(); ++layer) {
      if (auto found = layer->Child(key)) return found;
    }
    return std::nullopt;
  }
  std::string Field(const std::string& field) const { return absl::StrCat(subject_, " ", field); }
  v1::ContainerTemplate& Template() { return *service_.mutable_spec()->mutable_template_(); }

  void CheckFields() {
    static const std::set<std::string> handled = {
        "image",      "build",       "command",         "entrypoint",   "environment",
        "env_file",   "user",        "working_dir",     "ports",        "volumes",
        "networks",   "mem_limit",   "mem_reservation", "cpus",         "pids_limit",
        "deploy",     "healthcheck", "restart",         "cap_add",      "cap_drop",
        "privileged", "read_only",   "labels",          "network_mode", "pid",
        "logging",    "scale"};
    for (const Located& layer : layers_) {
      if (!layer.node.IsMap()) {
        report_.Error(layer, subject_, "must be a map of fields");
        continue;
      }
      for (const auto& entry : layer.node) {
        std::string key = entry.first.Scalar();
        Located at{entry.first, layer.file};
        if (handled.count(key) || absl::StartsWith(key, "x-")) continue;
        auto unmapped = UnmappedFields().find(key);
        if (unmapped != UnmappedFields().end()) {
          report_.Warn(at, Field(key), absl::StrCat("left out: ", unmapped->second));
        } else {
          report_.Error(at, Field(key), "is not a compose service field");
        }
      }
    }
  }

  void Image() {
    auto image = Find("image");
    auto build = Find("build");
    if (image) {
      if (auto value = ScalarOf(*image, Field("image"), report_)) Template().set_image(*value);
    }
    if (!build) {
      if (!image) report_.Error(layers_.back(), subject_, "needs image (or build)");
      return;
    }
    std::string context = build->node.IsScalar() ? build->node.Scalar() : "";
    std::string dockerfile;
    if (auto c = build->Child("context")) context = c->node.Scalar();
    if (auto d = build->Child("dockerfile")) dockerfile = d->node.Scalar();
    if (!image) Template().set_image(absl::StrCat(project_, "_", name_));
    report_.Warn(
        *build, Field("build"),
        absl::StrCat("opctl runs images, it does not build them: the manifest names ", Template().image(),
                     "; build it on each node with: docker build -t ", Template().image(),
                     dockerfile.empty() ? "" : absl::StrCat(" -f ", Resolve(*build->file, context) + "/" + dockerfile),
                     " ", Resolve(*build->file, context)));
  }

  void Commands() {
    if (auto entrypoint = Find("entrypoint")) {
      for (auto& word : WordsOf(*entrypoint, Field("entrypoint"), report_, true)) Template().add_command(word);
    }
    if (auto command = Find("command")) {
      for (auto& word : WordsOf(*command, Field("command"), report_, true)) Template().add_args(word);
    }
  }

  void Environment() {
    std::map<std::string, std::string> values;
    std::vector<std::string> order;
    for (const Located& layer : layers_) {
      if (auto files = layer.Child("env_file")) {
        std::vector<std::string> paths = files->node.IsScalar() ? std::vector<std::string>{files->node.Scalar()}
                                                                : WordsOf(*files, Field("env_file"), report_, false);
        for (const std::string& path : paths) ReadEnvFile(*files, Resolve(*layer.file, path), values, order);
      }
      if (auto environment = layer.Child("environment")) {
        ReadKeyValues(*environment, Field("environment"), values, order, report_);
      }
    }
    for (const std::string& key : order) {
      v1::EnvVar* env = Template().add_env();
      env->set_name(key);
      env->set_value(values[key]);
    }
  }

  void ReadEnvFile(const Located& at, const std::string& path, std::map<std::string, std::string>& values,
                   std::vector<std::string>& order) {
    std::ifstream in(path);
    if (!in) return report_.Error(at, Field("env_file"), absl::StrCat("cannot read ", path));
    std::string line;
    while (std::getline(in, line)) {
      absl::string_view text = absl::StripAsciiWhitespace(line);
      if (text.empty() || text[0] == '#') continue;
      size_t equals = text.find('=');
      if (equals == std::string::npos) continue;  // compose takes KEY alone from the shell
      std::string key(text.substr(0, equals));
      if (values.emplace(key, std::string(text.substr(equals + 1))).second) {
        order.push_back(key);
      } else {
        values[key] = std::string(text.substr(equals + 1));
      }
    }
  }

  void Plain() {
    if (auto user = Find("user")) Template().set_user(user->node.Scalar());
    if (auto dir = Find("working_dir")) Template().set_working_dir(dir->node.Scalar());
    std::map<std::string, std::string> labels;
    std::vector<std::string> order;
    for (const Located& layer : layers_) {
      if (auto found = layer.Child("labels")) ReadKeyValues(*found, Field("labels"), labels, order, report_);
      if (auto deploy = layer.Child("deploy")) {
        if (auto found = deploy->Child("labels")) ReadKeyValues(*found, Field("deploy.labels"), labels, order, report_);
      }
    }
    for (const auto& [key, value] : labels) (*service_.mutable_metadata()->mutable_labels())[key] = value;
    if (auto mode = Find("network_mode")) {
      std::string value = mode->node.Scalar();
      if (value == "host") {
        Template().set_host_network(true);
      } else if (value != "bridge") {
        report_.Warn(*mode, Field("network_mode"), absl::StrCat(value, " has no opctl equivalent; left out"));
      }
    }
    if (auto pid = Find("pid")) {
      if (pid->node.Scalar() == "host")
        Template().set_host_pid(true);
      else
        report_.Warn(*pid, Field("pid"), "only host maps; left out");
    }
    if (auto scale = Find("scale")) SetReplicas(*scale, "scale");
  }

  void SetReplicas(const Located& at, const std::string& field) {
    int replicas = 0;
    if (!at.node.IsScalar() || !absl::SimpleAtoi(at.node.Scalar(), &replicas) || replicas < 0) {
      return report_.Error(at, Field(field), "must be a whole number of replicas");
    }
    service_.mutable_spec()->set_replicas(replicas);
  }

  void Ports() {
    auto ports = Find("ports");
    if (!ports) return;
    if (!ports->node.IsSequence()) return report_.Error(*ports, Field("ports"), "must be a list");
    int index = 0;
    for (const YAML::Node& item : ports->node) {
      Located at{item, ports->file};
      std::string field = absl::StrCat(Field("ports"), "[", index++, "]");
      if (item.IsMap()) {
        LongPort(at, field);
      } else if (item.IsScalar()) {
        ShortPort(at, field, item.Scalar());
      } else {
        report_.Error(at, field, "must be a port or a map");
      }
    }
  }

  void AddPort(const Located& at, const std::string& field, const std::string& ip, const std::string& host,
               const std::string& container, const std::string& protocol) {
    int container_port = 0, host_port = 0;
    if (!absl::SimpleAtoi(container, &container_port) || container_port < 1 || container_port > 65535) {
      return report_.Error(at, field, absl::StrCat("\"", container, "\" is not a port (ranges are not converted)"));
    }
    if (!host.empty() && (!absl::SimpleAtoi(host, &host_port) || host_port < 1 || host_port > 65535)) {
      return report_.Error(at, field, absl::StrCat("\"", host, "\" is not a port (ranges are not converted)"));
    }
    if (host.empty()) {
      report_.Warn(at, field,
                   absl::StrCat("compose publishes it on a random host port; opctl publishes ", container_port,
                                " on the same port"));
    }
    v1::PortMapping* port = Template().add_ports();
    port->set_container_port(container_port);
    if (host_port != 0 && host_port != container_port) port->set_host_port(host_port);
    // compose publishes on every interface unless told; opctl's default is loopback, so say it.
    port->set_host_ip(ip.empty() ? "0.0.0.0" : ip);
    if (!protocol.empty() && protocol != "tcp") port->set_protocol(protocol);
  }

  void ShortPort(const Located& at, const std::string& field, const std::string& text) {
    std::string spec = text, protocol;
    if (size_t slash = spec.find('/'); slash != std::string::npos) {
      protocol = spec.substr(slash + 1);
      spec = spec.substr(0, slash);
    }
    std::vector<std::string> parts = absl::StrSplit(spec, ':');
    if (parts.size() == 1) return AddPort(at, field, "", "", parts[0], protocol);
    if (parts.size() == 2) return AddPort(at, field, "", parts[0], parts[1], protocol);
    if (parts.size() == 3) return AddPort(at, field, parts[0], parts[1], parts[2], protocol);
    report_.Error(at, field, absl::StrCat("\"", text, "\" is not [IP:][HOST:]PORT[/PROTOCOL]"));
  }

  void LongPort(const Located& at, const std::string& field) {
    auto get = [&](const char* key) { return at.node[key] ? at.node[key].Scalar() : std::string(); };
    AddPort(at, field, get("host_ip"), get("published"), get("target"), get("protocol"));
  }

  void Volumes() {
    auto volumes = Find("volumes");
    if (!volumes) return;
    if (!volumes->node.IsSequence()) return report_.Error(*volumes, Field("volumes"), "must be a list");
    int index = 0;
    for (const YAML::Node& item : volumes->node) {
      Located at{item, volumes->file};
      std::string field = absl::StrCat(Field("volumes"), "[", index++, "]");
      std::string source, target, type;
      bool read_only = false;
      if (item.IsMap()) {
        source = item["source"] ? item["source"].Scalar() : "";
        target = item["target"] ? item["target"].Scalar() : "";
        type = item["type"] ? item["type"].Scalar() : "volume";
        read_only = item["read_only"] && item["read_only"].as<std::string>() == "true";
      } else {
        std::vector<std::string> parts = absl::StrSplit(item.Scalar(), ':');
        if (parts.size() == 1) {
          target = parts[0];
        } else {
          source = parts[0];
          target = parts[1];
          read_only = parts.size() > 2 && absl::StrContains(parts[2], "ro");
        }
        type = source.empty() || !(source[0] == '.' || source[0] == '/' || source[0] == '~') ? "volume" : "bind";
      }
      AddMount(at, field, type, source, target, read_only);
    }
  }

  void AddMount(const Located& at, const std::string& field, const std::string& type, const std::string& source,
                const std::string& target, bool read_only) {
    if (type == "tmpfs") return report_.Warn(at, field, "left out: no tmpfs mounts in opctl");
    if (source.empty()) {
      return report_.Warn(
          at, field,
          absl::StrCat("left out: an anonymous volume at ", target, " (name it under volumes: to keep its data)"));
    }
    if (type == "volume" && !volumes_.count(source)) {
      return report_.Error(at, field,
                           absl::StrCat("names volume \"", source, "\", which the top-level volumes do not declare"));
    }
    v1::VolumeMount* mount = Template().add_volume_mounts();
    if (type == "volume") {
      mount->set_name(source);
    } else {
      mount->set_host_path(Resolve(*at.file, source));
    }
    mount->set_mount_path(target);
    mount->set_read_only(read_only);
  }

  void Networks() {
    auto networks = Find("networks");
    if (!networks) {
      if (!Find("network_mode") && !default_network_.empty())
        service_.mutable_spec()->mutable_network()->set_name(default_network_);
      return;
    }
    std::vector<std::pair<std::string, YAML::Node>> attached;
    if (networks->node.IsSequence()) {
      for (const YAML::Node& item : networks->node) attached.emplace_back(item.Scalar(), YAML::Node());
    } else if (networks->node.IsMap()) {
      for (const auto& entry : networks->node) attached.emplace_back(entry.first.Scalar(), entry.second);
    } else {
      return report_.Error(*networks, Field("networks"), "must be a list or a map");
    }
    for (const auto& [network, options] : attached) {
      Located at{options ? options : networks->node, networks->file};
      std::string field = absl::StrCat(Field("networks."), network);
      if (!networks_.count(network) && network != "default") {
        report_.Error(at, field, "is not declared under the top-level networks");
        continue;
      }
      v1::ServiceNetwork* into = service_.spec().has_network() ? service_.mutable_spec()->add_additional_networks()
                                                               : service_.mutable_spec()->mutable_network();
      into->set_name(network == "default" ? default_network_ : network);
      if (!options || !options.IsMap()) continue;
      if (options["ipv4_address"]) into->add_addresses(options["ipv4_address"].Scalar());
      for (const char* key : {"aliases", "ipv6_address", "link_local_ips", "priority"}) {
        if (options[key])
          report_.Warn(Located{options[key], at.file}, absl::StrCat(field, ".", key), "left out: no opctl equivalent");
      }
    }
  }

  void Resources() {
    v1::Resources& resources = *Template().mutable_resources();
    if (auto found = Find("mem_limit")) resources.set_memory_limit(found->node.Scalar());
    if (auto found = Find("mem_reservation")) resources.set_memory_reservation(found->node.Scalar());
    if (auto found = Find("cpus")) resources.set_cpus(found->node.Scalar());
    if (auto found = Find("pids_limit")) resources.set_pids_limit(found->node.as<int64_t>(0));
    auto deploy = Find("deploy");
    auto limits_and_reservations = deploy ? deploy->Child("resources") : std::nullopt;
    if (!limits_and_reservations) return;
    if (auto limits = limits_and_reservations->Child("limits")) {
      if (auto v = limits->Child("memory")) resources.set_memory_limit(v->node.Scalar());
      if (auto v = limits->Child("cpus")) resources.set_cpus(v->node.Scalar());
      if (auto v = limits->Child("pids")) resources.set_pids_limit(v->node.as<int64_t>(0));
    }
    if (auto reservations = limits_and_reservations->Child("reservations")) {
      if (auto v = reservations->Child("memory")) resources.set_memory_reservation(v->node.Scalar());
      if (auto v = reservations->Child("cpus")) {
        report_.Warn(*v, Field("deploy.resources.reservations.cpus"), "left out: opctl reserves memory only");
      }
    }
  }

  void Health() {
    auto health = Find("healthcheck");
    if (!health) return;
    v1::HealthCheck& check = *Template().mutable_healthcheck();
    if (auto disable = health->Child("disable"); disable && disable->node.Scalar() == "true") {
      check.add_test("NONE");
      return;
    }
    if (auto test = health->Child("test")) {
      if (test->node.IsScalar()) {
        check.add_test("CMD-SHELL");
        check.add_test(test->node.Scalar());
      } else {
        for (auto& word : WordsOf(*test, Field("healthcheck.test"), report_, false)) check.add_test(word);
      }
    }
    if (auto v = health->Child("interval")) check.set_interval(v->node.Scalar());
    if (auto v = health->Child("timeout")) check.set_timeout(v->node.Scalar());
    if (auto v = health->Child("retries")) check.set_retries(v->node.as<int>(0));
    if (auto v = health->Child("start_period")) check.set_start_period(v->node.Scalar());
  }

  void Restart(std::optional<Located> restart, bool deploy_condition) {
    if (!restart) return;
    std::string value = restart->node.Scalar();
    std::string field = deploy_condition ? "deploy.restart_policy.condition" : "restart";
    if (deploy_condition) value = value == "none" ? "no" : value == "any" ? "always" : value;
    if (absl::StartsWith(value, "on-failure:")) {
      report_.Warn(*restart, Field(field), "the retry count is left out: opctl retries with back-off");
      value = "on-failure";
    }
    if (value != "no" && value != "always" && value != "on-failure" && value != "unless-stopped") {
      return report_.Error(*restart, Field(field), absl::StrCat("\"", value, "\" is not a restart policy"));
    }
    Template().set_restart_policy(value);
  }

  void Security() {
    v1::SecurityContext& security = *Template().mutable_security_context();
    if (auto v = Find("privileged")) security.set_privileged(v->node.Scalar() == "true");
    if (auto v = Find("read_only")) security.set_read_only_root_filesystem(v->node.Scalar() == "true");
    if (auto v = Find("cap_add")) {
      for (auto& cap : WordsOf(*v, Field("cap_add"), report_, false)) security.mutable_capabilities()->add_add(cap);
    }
    if (auto v = Find("cap_drop")) {
      for (auto& cap : WordsOf(*v, Field("cap_drop"), report_, false)) security.mutable_capabilities()->add_drop(cap);
    }
  }

  void Deploy() {
    auto deploy = Find("deploy");
    if (!deploy) return;
    if (auto replicas = deploy->Child("replicas")) SetReplicas(*replicas, "deploy.replicas");
    if (auto policy = deploy->Child("restart_policy")) Restart(policy->Child("condition"), true);
    if (auto mode = deploy->Child("mode"); mode && mode->node.Scalar() == "global") {
      report_.Warn(*mode, Field("deploy.mode"), "global is not converted: set replicas to the node count");
    }
    for (const char* key : {"update_config", "rollback_config", "endpoint_mode"}) {
      if (auto v = deploy->Child(key))
        report_.Warn(*v, Field(absl::StrCat("deploy.", key)), "left out: opctl rolls one replica at a time");
    }
    auto placement = deploy->Child("placement");
    if (!placement) return;
    if (auto max = placement->Child("max_replicas_per_node")) {
      service_.mutable_spec()->mutable_placement()->set_max_replicas_per_node(max->node.as<int>(0));
    }
    if (auto constraints = placement->Child("constraints")) {
      for (const std::string& constraint :
           WordsOf(*constraints, Field("deploy.placement.constraints"), report_, false)) {
        std::vector<std::string> sides = absl::StrSplit(constraint, "==");
        std::string key = sides.size() == 2 ? std::string(absl::StripAsciiWhitespace(sides[0])) : "";
        if (absl::StartsWith(key, "node.labels.")) {
          (*service_.mutable_spec()->mutable_node_selector())[key.substr(12)] =
              std::string(absl::StripAsciiWhitespace(sides[1]));
        } else {
          report_.Warn(
              *constraints, Field("deploy.placement.constraints"),
              absl::StrCat("\"", constraint, "\" left out: only node.labels.KEY == VALUE maps (to nodeSelector)"));
        }
      }
    }
  }

  void Logging() {
    auto logging = Find("logging");
    if (!logging) return;
    if (auto driver = logging->Child("driver"); driver && driver->node.Scalar() != "json-file") {
      report_.Warn(*driver, Field("logging.driver"), "left out: opctl keeps Docker's json-file logs");
    }
    auto options = logging->Child("options");
    if (!options) return;
    if (auto v = options->Child("max-size")) Template().mutable_logs()->set_max_size(v->node.Scalar());
    if (auto v = options->Child("max-file")) Template().mutable_logs()->set_max_files(v->node.as<int>(0));
  }

 public:
  std::string project_;

 private:
  std::string name_;
  std::vector<Located> layers_;
  const std::set<std::string>& networks_;
  const std::set<std::string>& volumes_;
  std::string default_network_;
  Reporter& report_;
  std::string subject_;
  v1::Service service_;
};

void ConvertNetworks(const std::map<std::string, Located>& networks, const std::string& stack, Reporter& report,
                     ConvertedCompose& out) {
  for (const auto& [name, at] : networks) {
    v1::Object object;
    v1::Network& network = *object.mutable_network();
    network.mutable_metadata()->set_name(name);
    network.mutable_metadata()->set_stack(stack);
    std::string subject = "network/" + name;
    if (auto driver = at.Child("driver"); driver && driver->node.Scalar() != "bridge") {
      report.Warn(
          *driver, subject + " driver",
          absl::StrCat(driver->node.Scalar(), " is not converted: opctl Networks are bridges that span their hosts"));
    }
    if (auto internal = at.Child("internal")) network.mutable_spec()->set_internal(internal->node.Scalar() == "true");
    if (auto external = at.Child("external"))
      report.Warn(*external, subject + " external", "opctl makes the Network itself");
    if (auto options = at.Child("driver_opts")) {
      if (auto mtu = options->Child("com.docker.network.driver.mtu"))
        network.mutable_spec()->set_mtu(mtu->node.as<int>(0));
    }
    auto config = at.Child("ipam") ? at.Child("ipam")->Child("config") : std::nullopt;
    if (config && config->node.IsSequence() && config->node.size() > 0) {
      Located first{config->node[0], at.file};
      if (auto subnet = first.Child("subnet")) network.mutable_spec()->set_subnet(subnet->node.Scalar());
      if (auto gateway = first.Child("gateway")) network.mutable_spec()->set_gateway(gateway->node.Scalar());
      if (config->node.size() > 1) report.Warn(*config, subject + " ipam.config", "only the first subnet is converted");
    }
    FillTypeMeta(&object);
    out.objects.push_back(std::move(object));
  }
}

void ConvertVolumes(const std::map<std::string, Located>& volumes, const std::string& stack, Reporter& report,
                    ConvertedCompose& out) {
  for (const auto& [name, at] : volumes) {
    v1::Object object;
    v1::Volume& volume = *object.mutable_volume();
    volume.mutable_metadata()->set_name(name);
    volume.mutable_metadata()->set_stack(stack);
    if (auto external = at.Child("external"); external && external->node.Scalar() != "false") {
      volume.mutable_spec()->set_adopt_existing(true);  // it exists already: take it, data and all
    }
    if (auto driver = at.Child("driver"); driver && driver->node.Scalar() != "local") {
      report.Warn(*driver, "volume/" + name + " driver", "left out: opctl Volumes are local");
    }
    FillTypeMeta(&object);
    out.objects.push_back(std::move(object));
  }
}

// The objects' own checks, reported at the service's line in its last file.
void ValidateConverted(ConvertedCompose& out, const std::map<std::string, Located>& origins, Reporter& report) {
  for (size_t i = 0; i < out.objects.size(); ++i) {
    std::string name = MetaOf(out.objects[i]).name();
    auto origin = origins.find(absl::StrCat(KindOf(out.objects[i]), "/", name));
    for (const FieldError& error : ValidateObject(out.objects[i], static_cast<int>(i))) {
      if (origin != origins.end()) {
        report.Error(origin->second, DisplayName(out.objects[i]), absl::StrCat(error.field, ": ", error.message));
      } else {
        report.Error(error.ToString());
      }
    }
  }
}

struct Project {
  std::vector<YAML::Node> roots;
  std::map<std::string, Located> networks, volumes;
  std::vector<std::pair<std::string, std::vector<Located>>> services;  // in first-seen order
};

// Reads each file's top level into the merged project; false when a file is not compose.
bool ReadProject(const std::vector<ComposeFile>& files, const std::vector<std::string>& texts, Project& project,
                 Reporter& report) {
  for (size_t f = 0; f < files.size(); ++f) {
    YAML::Node root;
    try {
      root = YAML::Load(texts[f]);
    } catch (const YAML::Exception& error) {
      report.Error(absl::StrCat(files[f].path, ":", error.mark.line + 1, ": invalid YAML: ", error.msg));
      return false;
    }
    project.roots.push_back(root);
    Located top{root, &files[f].path};
    if (!root.IsMap() || !root["services"] || !root["services"].IsMap()) {
      report.Error(absl::StrCat(files[f].path,
                                ":1: not a compose file: it needs a services: map (version 1 files, "
                                "with services at the top, are not converted)"));
      return false;
    }
    if (auto version = top.Child("version");
        version && !absl::StartsWith(version->node.Scalar(), "2") && !absl::StartsWith(version->node.Scalar(), "3")) {
      report.Error(*version, "version",
                   absl::StrCat("\"", version->node.Scalar(), "\" is not a compose file version (2.x or 3.x)"));
    }
    for (const char* section : {"networks", "volumes"}) {
      auto found = top.Child(section);
      if (!found || found->node.IsNull()) continue;
      if (!found->node.IsMap()) {
        report.Error(*found, section, "must be a map");
        continue;
      }
      auto& into = std::string(section) == "networks" ? project.networks : project.volumes;
      for (const auto& entry : found->node) {
        into[entry.first.Scalar()] = Located{entry.second.IsNull() ? entry.first : entry.second, top.file};
      }
    }
    for (const auto& entry : root["services"]) {
      std::string name = entry.first.Scalar();
      auto known = std::find_if(project.services.begin(), project.services.end(),
                                [&](const auto& s) { return s.first == name; });
      if (known == project.services.end()) {
        project.services.push_back({name, {}});
        known = std::prev(project.services.end());
      }
      known->second.push_back(Located{entry.second, top.file});
    }
  }
  return true;
}

}  // namespace

std::vector<std::string> SplitCommandLine(const std::string& line) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote == '\'') {
      if (c == '\'')
        quote = 0;
      else
        word += c;
    } else if (quote == '"') {
      if (c == '"')
        quote = 0;
      else if (c == '\\' && i + 1 < line.size() && std::string("\"\\$`").find(line[i + 1]) != std::string::npos)
        word += line[++i];
      else
        word += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
      in_word = true;
    } else if (c == '\\' && i + 1 < line.size()) {
      word += line[++i];
      in_word = true;
    } else if (std::isspace(static_cast<unsigned char>(c))) {
      if (in_word) words.push_back(word);
      word.clear();
      in_word = false;
    } else {
      word += c;
      in_word = true;
    }
  }
  if (in_word) words.push_back(word);
  return words;
}

ConvertedCompose ConvertCompose(const std::vector<ComposeFile>& files, const ComposeOptions& options) {
  ConvertedCompose out;
  Reporter report(out);
  if (files.empty()) {
    report.Error("convert needs at least one compose file");
    return out;
  }
  std::vector<std::string> texts;
  for (const ComposeFile& file : files) texts.push_back(Interpolate(file.text, file, options, report));
  Project project;
  if (!ReadProject(files, texts, project, report)) return out;
  std::string stack = options.stack.empty() ? ProjectName(files.front().path) : options.stack;
  std::set<std::string> network_names, volume_names;
  for (const auto& [name, at] : project.networks) network_names.insert(name);
  for (const auto& [name, at] : project.volumes) volume_names.insert(name);

  // Services naming no network share compose's "default" one.
  bool needs_default = false;
  for (const auto& [name, layers] : project.services) {
    bool attached = false;
    for (const Located& layer : layers) attached |= layer.Child("networks") || layer.Child("network_mode");
    needs_default |= !attached;
  }
  std::string default_network = stack + "-default";
  if (needs_default && !project.networks.count("default")) {
    project.networks["default"] = Located{YAML::Node(YAML::NodeType::Map), &files.front().path};
  }
  std::map<std::string, Located> networks;
  for (auto& [name, at] : project.networks) networks[name == "default" ? default_network : name] = at;
  ConvertNetworks(networks, stack, report, out);
  ConvertVolumes(project.volumes, stack, report, out);
  std::map<std::string, Located> origins;
  for (const auto& [name, layers] : project.services) {
    ServiceConverter converter(name, layers, network_names, volume_names, default_network, report);
    converter.project_ = ProjectName(files.front().path);
    v1::Object object;
    *object.mutable_service() = converter.Convert();
    object.mutable_service()->mutable_metadata()->set_stack(stack);
    FillTypeMeta(&object);
    origins["Service/" + name] = layers.back();
    out.objects.push_back(std::move(object));
  }
  if (needs_default) {
    report.Warn(absl::StrCat(files.front().path, ":1: network/", default_network,
                             ": made for the services that name no network, as compose's default one; compose's "
                             "service-name DNS is not there (containers are NAME-ORDINAL): give fixed addresses"));
  }
  ValidateConverted(out, origins, report);
  if (report.failed()) out.objects.clear();
  return out;
}

}  // namespace opctl::cli
