#include "tests/support/etcd_cluster.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <fstream>
#include <random>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "tests/support/process.h"
#include "tests/support/tls.h"

namespace opctl::testing {
namespace {

bool PortFree(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool free = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  close(fd);
  return free;
}

// The lowest port the kernel hands out as a connection's local port.
int EphemeralLow() {
  std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
  int low = 32768;
  range >> low;
  return low;
}

// Reservations of base ports, one file each naming the test process that holds it, shared by every
// test process on the machine (ctest runs several at once).
constexpr char kReservations[] = "/tmp/opctl-etcd-ports";

std::string ReservationOf(int base) { return absl::StrCat(kReservations, "/", base); }

// Takes `base` for this process unless a live process holds it (one that died leaves a stale file).
bool Reserve(int base) {
  mkdir(kReservations, 0755);
  const std::string path = ReservationOf(base);
  for (int attempt = 0; attempt < 2; ++attempt) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd >= 0) {
      std::string pid = absl::StrCat(getpid());
      bool written = write(fd, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
      close(fd);
      return written;
    }
    std::ifstream in(path);
    int holder = 0;
    in >> holder;
    if (holder > 0 && (holder == getpid() || kill(holder, 0) == 0 || errno == EPERM)) return false;
    unlink(path.c_str());  // its process is gone
  }
  return false;
}

// A base port whose member ports (base+I, base+100+I) are all free now, below the kernel's ephemeral
// range (a port in it can become any connection's local port), and reserved for this process until
// the cluster goes: a member killed and started again must find its ports still free, and another
// test's cluster once took a killed member's port (its health check then reached ours, and our
// member's pause looked like its etcd hanging).
int FreeBase(int members) {
  static std::mt19937 random(static_cast<unsigned>(getpid()) * 7919u + static_cast<unsigned>(time(nullptr)));
  static const int slots = std::max(1, (EphemeralLow() - 10000 - 100 - members) / 4);
  while (true) {
    int base = 10000 + static_cast<int>(random() % slots) * 4;
    bool free = true;
    for (int i = 1; i <= members && free; ++i) free = PortFree(base + i) && PortFree(base + 100 + i);
    if (!free || !Reserve(base)) continue;
    return base;
  }
}

}  // namespace

absl::StatusOr<std::unique_ptr<EtcdCluster>> EtcdCluster::Start(int members) {
  absl::Status last;
  // Another process may take a port between the check and etcd's bind: then try other ports.
  for (int attempt = 0; attempt < 5; ++attempt) {
    std::unique_ptr<EtcdCluster> cluster(new EtcdCluster(MakeTempDir("opctl-etcd"), FreeBase(members), members));
    CommandResult up = RunCommand({"env", "OPCTL_ETCD_DIR=" + cluster->dir_, "OPCTL_CERTS=" + TestTls().dir,
                                   absl::StrCat("OPCTL_ETCD_PORT=", cluster->base_port_), SourcePath("scripts/etcd.sh"),
                                   "up", absl::StrCat(members)});
    if (up.exit_code == 0) {
      cluster->endpoints_ = std::string(absl::StripAsciiWhitespace(up.out));
      return cluster;
    }
    last = absl::UnavailableError(absl::StrCat("scripts/etcd.sh up ", members, " failed: ", up.err));
    // The destructor removes what this attempt left, its reservation too.
  }
  return last;
}

::testing::AssertionResult Ok(const absl::Status& status) {
  if (status.ok()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << status;
}

EtcdCluster::~EtcdCluster() {
  (void)Script({"down"});
  unlink(ReservationOf(base_port_).c_str());
}

absl::Status EtcdCluster::Script(const std::vector<std::string>& arguments) const {
  std::vector<std::string> argv = {"env", "OPCTL_ETCD_DIR=" + dir_, "OPCTL_CERTS=" + TestTls().dir,
                                   absl::StrCat("OPCTL_ETCD_PORT=", base_port_), SourcePath("scripts/etcd.sh")};
  argv.insert(argv.end(), arguments.begin(), arguments.end());
  CommandResult result = RunCommand(argv);
  if (result.exit_code != 0) return absl::InternalError(absl::StrCat("scripts/etcd.sh failed: ", result.err));
  return absl::OkStatus();
}

std::string EtcdCluster::Endpoint(int member) const { return absl::StrCat("https://127.0.0.1:", base_port_ + member); }

controller::EtcdStoreOptions EtcdCluster::StoreOptions() const {
  controller::EtcdStoreOptions options;
  for (int i = 1; i <= members_; ++i) options.etcd.endpoints.push_back(Endpoint(i));
  options.etcd.ca_file = TestTls().dir + "/ca.crt";
  options.etcd.cert_file = TestTls().dir + "/controller.crt";
  options.etcd.key_file = TestTls().dir + "/controller.key";
  options.connect_timeout = absl::Seconds(30);
  return options;
}

std::vector<std::string> EtcdCluster::ControllerFlags() const {
  return {"--store=etcd", "--etcd_endpoints=" + endpoints_, "--etcd_ca=" + TestTls().dir + "/ca.crt",
          "--etcd_cert=" + TestTls().dir + "/controller.crt", "--etcd_key=" + TestTls().dir + "/controller.key"};
}

absl::Status EtcdCluster::Kill(int member) { return Script({"kill", absl::StrCat(member)}); }
absl::Status EtcdCluster::Restart(int member) { return Script({"start", absl::StrCat(member)}); }
absl::Status EtcdCluster::Pause(int member) { return Script({"stop", absl::StrCat(member)}); }
absl::Status EtcdCluster::Resume(int member) { return Script({"cont", absl::StrCat(member)}); }

}  // namespace opctl::testing
