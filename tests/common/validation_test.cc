#include "common/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>

#include "common/object.h"

namespace opctl {
namespace {

using ::testing::HasSubstr;
using ::testing::IsEmpty;

v1::Object Network(const std::string& name, const std::string& subnet) {
  v1::Object object;
  object.mutable_network()->mutable_metadata()->set_name(name);
  object.mutable_network()->mutable_spec()->set_subnet(subnet);
  return object;
}

v1::Object Volume(const std::string& name) {
  v1::Object object;
  object.mutable_volume()->mutable_metadata()->set_name(name);
  return object;
}

v1::Object Service(const std::string& name, std::vector<std::string> addresses) {
  v1::Object object;
  v1::Service* service = object.mutable_service();
  service->mutable_metadata()->set_name(name);
  service->mutable_spec()->set_replicas(static_cast<int>(addresses.size()));
  service->mutable_spec()->mutable_network()->set_name("redis-net");
  for (const std::string& address : addresses) service->mutable_spec()->mutable_network()->add_addresses(address);
  v1::ContainerTemplate* t = service->mutable_spec()->mutable_template_();
  t->set_image("opctl/redis:7.0");
  t->mutable_resources()->set_memory_limit("2g");
  t->mutable_resources()->set_memory_reservation("1g");
  t->mutable_resources()->set_cpus("2");
  t->add_volume_mounts()->set_name("redis_master_data");
  t->mutable_volume_mounts(0)->set_mount_path("/data");
  v1::HealthCheck* health = t->mutable_healthcheck();
  for (const char* word : {"CMD", "redis-cli", "ping"}) health->add_test(word);
  health->set_interval("5s");
  health->set_timeout("3s");
  health->set_retries(3);
  health->set_start_period("10s");
  return object;
}

std::vector<v1::Object> Stack() {
  return {Network("redis-net", "172.19.0.0/16"), Volume("redis_master_data"), Service("redis-master", {"172.19.0.2"}),
          Service("redis-replica", {"172.19.0.3", "172.19.0.4"})};
}

// Applies `change` to the stack's document `index` and returns the errors.
std::vector<FieldError> ErrorsAfter(int index, const std::function<void(v1::Object&)>& change) {
  std::vector<v1::Object> objects = Stack();
  change(objects[index]);
  return ValidateApply(objects, nullptr);
}

// The single error's "field: message".
std::string Only(const std::vector<FieldError>& errors) {
  EXPECT_EQ(errors.size(), 1u);
  if (errors.size() != 1) {
    for (const FieldError& error : errors) ADD_FAILURE() << error.ToString();
    return "";
  }
  return errors[0].field + ": " + errors[0].message;
}

v1::ContainerTemplate& Template(v1::Object& object) {
  return *object.mutable_service()->mutable_spec()->mutable_template_();
}

TEST(Validation, TheSeedStackIsValid) { EXPECT_THAT(ValidateApply(Stack(), nullptr), IsEmpty()); }

TEST(Validation, Names) {
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { MutableMetaOf(&o)->set_name("Redis_Master"); })),
              HasSubstr("metadata.name: \"Redis_Master\" is not a valid name"));
  EXPECT_THAT(Only(ErrorsAfter(0, [](v1::Object& o) { MutableMetaOf(&o)->set_name(""); })),
              HasSubstr("metadata.name: is required"));
  EXPECT_THAT(Only(ErrorsAfter(0, [](v1::Object& o) { MutableMetaOf(&o)->set_name(std::string(64, 'a')); })),
              HasSubstr("at most 63"));
  // Volumes follow Docker's rule, so the seed's underscores are fine, but not a leading dot.
  EXPECT_THAT(ErrorsAfter(1, [](v1::Object& o) { MutableMetaOf(&o)->set_name("data_1.x"); }), IsEmpty());
  EXPECT_THAT(ValidateObject(Volume(".hidden"), 0).size(), 1u);
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { MutableMetaOf(&o)->set_stack("My Stack"); })),
              HasSubstr("metadata.stack"));
}

TEST(Validation, Labels) {
  EXPECT_THAT(ErrorsAfter(2, [](v1::Object& o) { (*MutableMetaOf(&o)->mutable_labels())["opctl.io/role"] = "master"; }),
              IsEmpty());
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { (*MutableMetaOf(&o)->mutable_labels())["bad key!"] = "x"; })),
              HasSubstr("metadata.labels.bad key!: \"bad key!\" is not a valid label key"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { (*MutableMetaOf(&o)->mutable_labels())["app"] = "a b"; })),
              HasSubstr("not a valid label value"));
}

TEST(Validation, Subnets) {
  EXPECT_THAT(
      Only(ErrorsAfter(0, [](v1::Object& o) { o.mutable_network()->mutable_spec()->set_subnet("172.19.0.0/33"); })),
      HasSubstr("spec.subnet: \"172.19.0.0/33\" is not a valid IPv4 subnet"));
  EXPECT_THAT(ErrorsAfter(0, [](v1::Object& o) { o.mutable_network()->mutable_spec()->set_gateway("10.0.0.1"); }),
              testing::Contains(testing::Field(&FieldError::field, "spec.gateway")));
  EXPECT_THAT(Only(ErrorsAfter(0, [](v1::Object& o) { o.mutable_network()->mutable_spec()->set_driver("overlay"); })),
              HasSubstr("spec.driver: \"overlay\" is not one of: bridge"));
}

// Every driver opctl takes, with options Docker documents for it; what does not fit is named.
TEST(Validation, LogDriversAndTheirOptions) {
  auto logs = [](const std::string& driver, std::map<std::string, std::string> options) {
    return [=](v1::Object& o) {
      v1::LogOptions* l = Template(o).mutable_logs();
      l->set_driver(driver);
      l->mutable_options()->insert(options.begin(), options.end());
    };
  };
  const std::pair<std::string, std::map<std::string, std::string>> fine[] = {
      {"", {{"compress", "true"}}},
      {"json-file", {{"tag", "{{.Name}}"}}},
      {"local", {{"compress", "false"}}},
      {"journald", {{"tag", "redis"}, {"labels", "app"}}},
      {"syslog", {{"syslog-address", "tcp+tls://logs.example:6514"}, {"syslog-facility", "daemon"}}},
      {"syslog", {{"syslog-address", "unix:///dev/log"}, {"mode", "non-blocking"}, {"max-buffer-size", "4m"}}},
      {"gelf", {{"gelf-address", "udp://10.0.0.9:12201"}, {"cache-disabled", "true"}}},
      {"fluentd", {{"fluentd-address", "10.0.0.9:24224"}, {"fluentd-async", "true"}}},
      {"none", {}},
  };
  for (const auto& [driver, options] : fine) EXPECT_THAT(ErrorsAfter(2, logs(driver, options)), IsEmpty()) << driver;
  EXPECT_THAT(Only(ErrorsAfter(2, logs("splunk", {}))),
              HasSubstr("spec.template.logs.driver: \"splunk\" is not one of: json-file, local, journald"));
  EXPECT_THAT(Only(ErrorsAfter(2, logs("gelf", {}))),
              HasSubstr("spec.template.logs.options.gelf-address: is required by the gelf driver"));
  EXPECT_THAT(Only(ErrorsAfter(2, logs("gelf", {{"gelf-address", "udp://10.0.0.9"}}))),
              HasSubstr("needs HOST:PORT after udp://"));
  EXPECT_THAT(Only(ErrorsAfter(2, logs("syslog", {{"syslog-address", "http://10.0.0.9:514"}}))),
              HasSubstr("is not an address: udp://, tcp://"));
  EXPECT_THAT(Only(ErrorsAfter(2, logs("none", {{"tag", "x"}}))),
              HasSubstr("logs.options.tag: the none driver takes no options"));
  EXPECT_THAT(Only(ErrorsAfter(2, logs("json-file", {{"max-size", "1m"}}))),
              HasSubstr("logs.options.max-size: is set by spec.template.logs.maxSize"));
  EXPECT_THAT(Only(ErrorsAfter(2, logs("syslog", {{"mode", "lossy"}}))),
              HasSubstr("logs.options.mode: \"lossy\" is not one of: blocking, non-blocking"));
  EXPECT_THAT(Only(ErrorsAfter(2, logs("local", {{"tag", "x"}}))), HasSubstr("is not an option of the local driver"));
  EXPECT_THAT(Only(ErrorsAfter(2,
                               [&](v1::Object& o) {
                                 logs("syslog", {})(o);
                                 Template(o).mutable_logs()->set_max_files(3);
                               })),
              HasSubstr("logs.maxFiles: only json-file and local rotate files on the host, not syslog"));
  EXPECT_THAT(Only(ErrorsAfter(2, logs("syslog", {{"tag", "a\nb"}}))), HasSubstr("holds a line break"));
}

TEST(Validation, MtuAndPlacement) {
  EXPECT_THAT(Only(ErrorsAfter(0, [](v1::Object& o) { o.mutable_network()->mutable_spec()->set_mtu(1000); })),
              HasSubstr("spec.mtu: 1000 is out of range (1280 to 9000; 0 for 1450)"));
  EXPECT_THAT(ErrorsAfter(0, [](v1::Object& o) { o.mutable_network()->mutable_spec()->set_mtu(9000); }), IsEmpty());
  auto placement = [](v1::Object& o) { return o.mutable_service()->mutable_spec()->mutable_placement(); };
  EXPECT_THAT(Only(ErrorsAfter(3, [&](v1::Object& o) { placement(o)->set_max_replicas_per_node(-1); })),
              HasSubstr("spec.placement.maxReplicasPerNode: -1 is not a limit"));
  EXPECT_THAT(Only(ErrorsAfter(3, [&](v1::Object& o) { placement(o)->add_apart_from("redis-replica"); })),
              HasSubstr("spec.placement.apartFrom[0]: is this Service itself"));
  EXPECT_THAT(Only(ErrorsAfter(3,
                               [&](v1::Object& o) {
                                 placement(o)->add_apart_from("redis-master");
                                 placement(o)->add_apart_from("redis-master");
                               })),
              HasSubstr("spec.placement.apartFrom[1]: \"redis-master\" is listed twice"));
  EXPECT_THAT(ErrorsAfter(3, [&](v1::Object& o) { placement(o)->add_apart_from("redis-master"); }), IsEmpty());
}

TEST(Validation, StaticAddresses) {
  EXPECT_THAT(Only(ErrorsAfter(2,
                               [](v1::Object& o) {
                                 o.mutable_service()->mutable_spec()->mutable_network()->set_addresses(0, "10.0.0.2");
                               })),
              HasSubstr("spec.network.addresses[0]: \"10.0.0.2\" is outside network \"redis-net\" (172.19.0.0/16)"));
  EXPECT_THAT(Only(ErrorsAfter(2,
                               [](v1::Object& o) {
                                 o.mutable_service()->mutable_spec()->mutable_network()->set_addresses(0, "172.19.0.1");
                               })),
              HasSubstr("is the gateway"));
  EXPECT_THAT(Only(ErrorsAfter(2,
                               [](v1::Object& o) {
                                 o.mutable_service()->mutable_spec()->mutable_network()->set_addresses(
                                     0, "172.19.255.255");
                               })),
              HasSubstr("network or broadcast address"));
  EXPECT_THAT(Only(ErrorsAfter(2,
                               [](v1::Object& o) {
                                 o.mutable_service()->mutable_spec()->mutable_network()->set_addresses(0, "172.19.0.3");
                               })),
              HasSubstr("already used by service/redis-"));
  EXPECT_THAT(Only(ErrorsAfter(3,
                               [](v1::Object& o) {
                                 o.mutable_service()->mutable_spec()->mutable_network()->set_addresses(1, "172.19.0.3");
                               })),
              HasSubstr("spec.network.addresses[1]: \"172.19.0.3\" is listed twice"));
  EXPECT_THAT(Only(ErrorsAfter(2,
                               [](v1::Object& o) {
                                 o.mutable_service()->mutable_spec()->mutable_network()->set_addresses(0,
                                                                                                       "172.19.0.300");
                               })),
              HasSubstr("is not an IPv4 address"));
}

TEST(Validation, ReplicasAndAddresses) {
  EXPECT_THAT(Only(ErrorsAfter(3, [](v1::Object& o) { o.mutable_service()->mutable_spec()->set_replicas(3); })),
              HasSubstr("spec.replicas: 3 replicas need 3 static addresses in spec.network.addresses, 2 given"));
  EXPECT_THAT(ErrorsAfter(3, [](v1::Object& o) { o.mutable_service()->mutable_spec()->set_replicas(1); }), IsEmpty());
  EXPECT_THAT(Only(ErrorsAfter(3,
                               [](v1::Object& o) {
                                 o.mutable_service()->mutable_spec()->clear_network();
                                 o.mutable_service()->mutable_spec()->set_replicas(kMaxReplicas + 1);
                               })),
              HasSubstr("is out of range (0 to 1000)"));
  EXPECT_THAT(Only(ErrorsAfter(3, [](v1::Object& o) { o.mutable_service()->mutable_spec()->set_replicas(-1); })),
              HasSubstr("out of range"));
}

TEST(Validation, Resources) {
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).mutable_resources()->set_memory_limit("2x"); })),
              HasSubstr("spec.template.resources.memoryLimit: \"2x\" is not a memory quantity (e.g. 512m, 2g, 1Gi"));
  EXPECT_THAT(
      Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).mutable_resources()->set_memory_reservation("3g"); })),
      HasSubstr("memoryReservation: \"3g\" is above memoryLimit \"2g\""));
  EXPECT_THAT(Only(ErrorsAfter(2,
                               [](v1::Object& o) {
                                 Template(o).mutable_resources()->set_memory_limit("1m");
                                 Template(o).mutable_resources()->clear_memory_reservation();
                               })),
              HasSubstr("below Docker's minimum"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).mutable_resources()->set_cpus("two"); })),
              HasSubstr("spec.template.resources.cpus: \"two\" is not a CPU quantity"));
}

TEST(Validation, HealthCheck) {
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).mutable_healthcheck()->set_interval("5"); })),
              HasSubstr("spec.template.healthcheck.interval: \"5\" is not a duration"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).mutable_healthcheck()->set_test(0, "RUN"); })),
              HasSubstr("healthcheck.test[0]: \"RUN\" is not one of: CMD, CMD-SHELL, NONE"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).mutable_healthcheck()->clear_test(); })),
              HasSubstr("healthcheck.test: is required"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).mutable_healthcheck()->set_retries(-1); })),
              HasSubstr("retries: must not be negative"));
}

TEST(Validation, APreStopHookNeedsACommand) {
  EXPECT_THAT(
      Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).mutable_lifecycle()->mutable_pre_stop()->mutable_exec(); })),
      HasSubstr("spec.template.lifecycle.preStop.exec.command: is required"));
  EXPECT_THAT(ErrorsAfter(2,
                          [](v1::Object& o) {
                            Template(o).mutable_lifecycle()->mutable_pre_stop()->mutable_exec()->add_command("true");
                          }),
              IsEmpty());
}

TEST(Validation, TemplateFields) {
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).clear_image(); })), HasSubstr("image: is required"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).set_image("Bad Image"); })),
              HasSubstr("not a valid image reference"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).set_restart_policy("sometimes"); })),
              HasSubstr("restartPolicy: \"sometimes\" is not one of"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).set_working_dir("data"); })),
              HasSubstr("workingDir: \"data\" must be an absolute path"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).set_user("redis user"); })), HasSubstr("user:"));
  EXPECT_THAT(Only(ErrorsAfter(2,
                               [](v1::Object& o) {
                                 Template(o).add_env()->set_name("A");
                                 Template(o).add_env()->set_name("A");
                               })),
              HasSubstr("env[1].name: \"A\" is set twice"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).add_env()->set_name("1A"); })),
              HasSubstr("not a valid variable name"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).add_ports()->set_container_port(70000); })),
              HasSubstr("ports[0].containerPort: 70000 is not a port"));
  EXPECT_THAT(Only(ErrorsAfter(2,
                               [](v1::Object& o) {
                                 v1::PortMapping* port = Template(o).add_ports();
                                 port->set_container_port(6379);
                                 port->set_host_ip("localhost");
                               })),
              HasSubstr("ports[0].hostIp"));
  EXPECT_THAT(Only(ErrorsAfter(2,
                               [](v1::Object& o) {
                                 Template(o).add_ports()->set_container_port(6379);
                                 Template(o).add_ports()->set_container_port(6379);
                               })),
              HasSubstr("publishes :6379/tcp twice"));
  EXPECT_THAT(Only(ErrorsAfter(2, [](v1::Object& o) { Template(o).mutable_volume_mounts(0)->set_mount_path("data"); })),
              HasSubstr("volumeMounts[0].mountPath: \"data\" must be an absolute path"));
}

TEST(Validation, References) {
  std::vector<v1::Object> objects = Stack();
  objects.erase(objects.begin());  // no network
  std::vector<FieldError> errors = ValidateApply(objects, nullptr);
  EXPECT_THAT(errors, IsEmpty()) << "without a store the CLI leaves missing references to the controller";

  struct EmptyStore : ObjectLookup {
    std::optional<v1::Object> Find(const std::string&, const std::string&) const override { return std::nullopt; }
    std::vector<v1::Object> ListKind(const std::string&) const override { return {}; }
  } empty;
  errors = ValidateApply(objects, &empty);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "spec.network.name");
  EXPECT_THAT(errors[0].message, HasSubstr("network \"redis-net\" does not exist"));

  objects = Stack();
  objects.erase(objects.begin() + 1);  // no volume
  errors = ValidateApply(objects, &empty);
  ASSERT_EQ(errors.size(), 2u);
  EXPECT_EQ(errors[0].field, "spec.template.volumeMounts[0].name");
}

TEST(Validation, AddressesClashWithStoredServices) {
  struct Stored : ObjectLookup {
    std::optional<v1::Object> Find(const std::string& kind, const std::string& name) const override {
      if (kind == "Network") return Network("redis-net", "172.19.0.0/16");
      if (kind == "Volume") return Volume(name);
      return std::nullopt;
    }
    std::vector<v1::Object> ListKind(const std::string&) const override { return {Service("other", {"172.19.0.9"})}; }
  } stored;
  std::vector<v1::Object> objects = {Service("redis-master", {"172.19.0.9"})};
  std::vector<FieldError> errors = ValidateApply(objects, &stored);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("already used by service/other"));
  EXPECT_EQ(errors[0].document, 0);
}

TEST(Validation, SubnetsMayNotOverlapInTheApplyOrWithStoredNetworks) {
  struct Stored : ObjectLookup {
    std::optional<v1::Object> Find(const std::string&, const std::string&) const override { return std::nullopt; }
    std::vector<v1::Object> ListKind(const std::string& kind) const override {
      if (kind == "Network") return {Network("redis-net", "172.19.0.0/16")};
      return {};
    }
  } stored;
  // Re-applying the stored network replaces it: no clash with itself.
  EXPECT_THAT(ValidateApply({Network("redis-net", "172.19.0.0/16")}, &stored), IsEmpty());
  std::vector<FieldError> errors = ValidateApply({Network("cache-net", "172.19.5.0/24")}, &stored);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, "spec.subnet");
  EXPECT_THAT(errors[0].message, HasSubstr("overlaps network \"redis-net\" (172.19.0.0/16)"));
  // Within one apply the later document carries the error, once.
  errors =
      ValidateApply({Network("a", "10.1.0.0/16"), Network("b", "10.1.2.0/24"), Network("c", "10.2.0.0/16")}, nullptr);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].document, 1);
}

TEST(Validation, AdditionalNetworksFollowTheSameRules) {
  EXPECT_THAT(ErrorsAfter(2,
                          [](v1::Object& o) {
                            v1::ServiceNetwork* extra = o.mutable_service()->mutable_spec()->add_additional_networks();
                            extra->set_name("redis-net");
                          }),
              testing::Contains(testing::Field(&FieldError::message, HasSubstr("is attached twice"))));
  EXPECT_THAT(ErrorsAfter(2,
                          [](v1::Object& o) {
                            v1::ServiceNetwork* extra = o.mutable_service()->mutable_spec()->add_additional_networks();
                            extra->set_name("monitoring");
                          }),
              IsEmpty())
      << "without a store the reference is left to the controller";
  std::vector<v1::Object> objects = Stack();
  objects.push_back(Network("monitoring", "172.20.0.0/16"));
  v1::ServiceNetwork* extra = objects[2].mutable_service()->mutable_spec()->add_additional_networks();
  extra->set_name("monitoring");
  extra->add_addresses("172.21.0.3");
  EXPECT_THAT(Only(ValidateApply(objects, nullptr)),
              HasSubstr("spec.additionalNetworks[0].addresses[0]: \"172.21.0.3\" is outside network \"monitoring\""));
}

TEST(Validation, DuplicatesAndSystemKinds) {
  std::vector<v1::Object> objects = Stack();
  objects.push_back(Volume("redis_master_data"));
  EXPECT_THAT(Only(ValidateApply(objects, nullptr)),
              HasSubstr("duplicate: volume/redis_master_data is already declared in document 2"));
  v1::Object container;
  container.mutable_container()->mutable_metadata()->set_name("x");
  EXPECT_THAT(Only(ValidateApply({container}, nullptr)), HasSubstr("Containers are written by the controller"));
  EXPECT_THAT(Only(ValidateApply({v1::Object()}, nullptr)), HasSubstr("kind: is required"));
}

}  // namespace
}  // namespace opctl
