#include "cli/migrate/compose_service.h"

#include <fstream>
#include <map>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "cli/migrate/compose_extensions.h"
#include "cli/migrate/compose_fields.h"
#include "cli/migrate/compose_logging.h"
#include "cli/migrate/compose_rollout.h"

namespace opctl::cli::compose {
namespace {

class ServiceConverter {
 public:
  ServiceConverter(const ServiceSource& source, const ServiceContext& context, Reporter& report)
      : name_(source.name), layers_(source.layers), context_(context), report_(report), subject_("service/" + name_) {}

  v1::Service Convert() {
    service_.mutable_metadata()->set_name(name_);
    service_.mutable_spec()->set_replicas(1);
    CheckServiceFields(name_, layers_, report_);
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
    if (auto extension = ExtensionOf(layers_)) ApplyServiceExtension(*extension, service_, report_);
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
    if (!image) Template().set_image(absl::StrCat(context_.project, "_", name_));
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
    OrderedValues env;
    for (const Located& layer : layers_) {
      if (auto files = layer.Child("env_file")) {
        std::vector<std::string> paths = files->node.IsScalar() ? std::vector<std::string>{files->node.Scalar()}
                                                                : WordsOf(*files, Field("env_file"), report_, false);
        for (const std::string& path : paths) ReadEnvFile(*files, Resolve(*layer.file, path), env);
      }
      if (auto environment = layer.Child("environment")) {
        ReadKeyValues(*environment, Field("environment"), env, report_);
      }
    }
    for (const std::string& key : env.order) {
      v1::EnvVar* var = Template().add_env();
      var->set_name(key);
      var->set_value(env.values[key]);
    }
  }

  void ReadEnvFile(const Located& at, const std::string& path, OrderedValues& env) {
    std::ifstream in(path);
    if (!in) return report_.Error(at, Field("env_file"), absl::StrCat("cannot read ", path));
    std::string line;
    while (std::getline(in, line)) {
      absl::string_view text = absl::StripAsciiWhitespace(line);
      if (text.empty() || text[0] == '#') continue;
      size_t equals = text.find('=');
      if (equals == std::string::npos) continue;  // compose takes KEY alone from the shell
      env.Set(std::string(text.substr(0, equals)), std::string(text.substr(equals + 1)));
    }
  }

  void Plain() {
    if (auto user = Find("user")) Template().set_user(user->node.Scalar());
    if (auto dir = Find("working_dir")) Template().set_working_dir(dir->node.Scalar());
    OrderedValues labels;
    for (const Located& layer : layers_) {
      if (auto found = layer.Child("labels")) ReadKeyValues(*found, Field("labels"), labels, report_);
      if (auto deploy = layer.Child("deploy")) {
        if (auto found = deploy->Child("labels")) ReadKeyValues(*found, Field("deploy.labels"), labels, report_);
      }
    }
    for (const auto& [key, value] : labels.values) (*service_.mutable_metadata()->mutable_labels())[key] = value;
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
    if (auto replicas = IntOf(at, Field(field), report_)) service_.mutable_spec()->set_replicas(*replicas);
  }

  // Calls `read` with each item of the list `key` and its field name ("ports[2]").
  template <typename Read>
  void ForEachItem(const std::string& key, Read read) {
    auto list = Find(key);
    if (!list) return;
    if (!list->node.IsSequence()) return report_.Error(*list, Field(key), "must be a list");
    int index = 0;
    for (const YAML::Node& item : list->node) {
      read(Located{item, list->file}, absl::StrCat(Field(key), "[", index++, "]"));
    }
  }

  void Ports() {
    ForEachItem("ports", [&](const Located& at, const std::string& field) {
      if (at.node.IsMap()) {
        LongPort(at, field);
      } else if (at.node.IsScalar()) {
        ShortPort(at, field, at.node.Scalar());
      } else {
        report_.Error(at, field, "must be a port or a map");
      }
    });
  }

  void AddPort(const Located& at, const std::string& field, const std::string& ip, const std::string& host,
               const std::string& container, const std::string& protocol) {
    int container_port = 0, host_port = 0;
    for (auto [text, port] : {std::pair{&container, &container_port}, std::pair{&host, &host_port}}) {
      if (text->empty() && port == &host_port) continue;
      if (!absl::SimpleAtoi(*text, port) || *port < 1 || *port > 65535) {
        return report_.Error(at, field, absl::StrCat("\"", *text, "\" is not a port (ranges are not converted)"));
      }
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
    ForEachItem("volumes", [&](const Located& at, const std::string& field) {
      std::string source, target, type;
      bool read_only = false;
      if (at.node.IsMap()) {
        source = at.node["source"] ? at.node["source"].Scalar() : "";
        target = at.node["target"] ? at.node["target"].Scalar() : "";
        type = at.node["type"] ? at.node["type"].Scalar() : "volume";
        read_only = at.node["read_only"] && at.node["read_only"].as<std::string>() == "true";
      } else {
        std::vector<std::string> parts = absl::StrSplit(at.node.Scalar(), ':');
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
    });
  }

  void AddMount(const Located& at, const std::string& field, const std::string& type, const std::string& source,
                const std::string& target, bool read_only) {
    if (type == "tmpfs") return report_.Warn(at, field, "left out: no tmpfs mounts in opctl");
    if (source.empty()) {
      return report_.Warn(
          at, field,
          absl::StrCat("left out: an anonymous volume at ", target, " (name it under volumes: to keep its data)"));
    }
    if (type == "volume" && !context_.volumes.count(source)) {
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
      if (!Find("network_mode") && !context_.default_network.empty())
        service_.mutable_spec()->mutable_network()->set_name(context_.default_network);
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
      if (!context_.networks.count(network) && network != "default") {
        report_.Error(at, field, "is not declared under the top-level networks");
        continue;
      }
      v1::ServiceNetwork* into = service_.spec().has_network() ? service_.mutable_spec()->add_additional_networks()
                                                               : service_.mutable_spec()->mutable_network();
      into->set_name(network == "default" ? context_.default_network : network);
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
    if (auto found = Find("pids_limit"))
      resources.set_pids_limit(IntOf(*found, Field("pids_limit"), report_).value_or(0));
    auto deploy = Find("deploy");
    auto limits_and_reservations = deploy ? deploy->Child("resources") : std::nullopt;
    if (!limits_and_reservations) return;
    if (auto limits = limits_and_reservations->Child("limits")) {
      if (auto v = limits->Child("memory")) resources.set_memory_limit(v->node.Scalar());
      if (auto v = limits->Child("cpus")) resources.set_cpus(v->node.Scalar());
      if (auto v = limits->Child("pids"))
        resources.set_pids_limit(IntOf(*v, Field("deploy.resources.limits.pids"), report_).value_or(0));
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
    if (auto v = health->Child("retries"))
      check.set_retries(IntOf(*v, Field("healthcheck.retries"), report_).value_or(0));
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
    v1::SecurityContext security;
    if (auto v = Find("privileged")) security.set_privileged(v->node.Scalar() == "true");
    if (auto v = Find("read_only")) security.set_read_only_root_filesystem(v->node.Scalar() == "true");
    if (auto v = Find("cap_add")) {
      for (auto& cap : WordsOf(*v, Field("cap_add"), report_, false)) security.mutable_capabilities()->add_add(cap);
    }
    if (auto v = Find("cap_drop")) {
      for (auto& cap : WordsOf(*v, Field("cap_drop"), report_, false)) security.mutable_capabilities()->add_drop(cap);
    }
    // opctl denies privilege escalation unless asked: only no-new-privileges:false changes that.
    if (auto v = Find("security_opt")) {
      for (auto& option : WordsOf(*v, Field("security_opt"), report_, false)) {
        if (option == "no-new-privileges:false") {
          security.set_allow_privilege_escalation(true);
        } else if (option != "no-new-privileges" && option != "no-new-privileges:true") {
          report_.Warn(*v, Field("security_opt"),
                       absl::StrCat("\"", option, "\" left out: only no-new-privileges maps"));
        }
      }
    }
    if (security.ByteSizeLong() > 0) *Template().mutable_security_context() = security;
  }

  void Deploy() {
    auto deploy = Find("deploy");
    if (!deploy) return;
    if (auto replicas = deploy->Child("replicas")) SetReplicas(*replicas, "deploy.replicas");
    if (auto policy = deploy->Child("restart_policy")) Restart(policy->Child("condition"), true);
    if (auto mode = deploy->Child("mode"); mode && mode->node.Scalar() == "global") {
      report_.Warn(*mode, Field("deploy.mode"), "global is not converted: set replicas to the node count");
    }
    if (auto update = deploy->Child("update_config")) {
      ReadUpdateConfig(*update, Field("deploy.update_config"), *service_.mutable_spec()->mutable_rollout(), report_);
    }
    for (const char* key : {"rollback_config", "endpoint_mode"}) {
      if (auto v = deploy->Child(key)) report_.Warn(*v, Field(absl::StrCat("deploy.", key)), "left out");
    }
    auto placement = deploy->Child("placement");
    if (!placement) return;
    if (auto max = placement->Child("max_replicas_per_node")) {
      service_.mutable_spec()->mutable_placement()->set_max_replicas_per_node(
          IntOf(*max, Field("deploy.placement.max_replicas_per_node"), report_).value_or(0));
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
    if (auto logging = Find("logging")) ConvertLogging(*logging, subject_, *Template().mutable_logs(), report_);
  }

 private:
  std::string name_;
  std::vector<Located> layers_;
  const ServiceContext& context_;
  Reporter& report_;
  std::string subject_;
  v1::Service service_;
};

}  // namespace

v1::Service ConvertService(const ServiceSource& source, const ServiceContext& context, Reporter& report) {
  return ServiceConverter(source, context, report).Convert();
}

}  // namespace opctl::cli::compose
