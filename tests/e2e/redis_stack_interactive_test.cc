// opctl exec and port-forward against the seed's Redis stack (the fixture of redis_stack_test.cc):
// everything goes through the controller and the agent; the stack publishes no port, and the tests
// below use no `docker exec` but to look at what the commands did.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "tests/e2e/redis_stack_fixture.h"
#include "tests/support/pseudo_terminal.h"

namespace opctl {
namespace {

using ::testing::HasSubstr;
using testing::PseudoTerminal;
using testing::WaitFor;

std::vector<std::string> OpctlArgv(const testing::ControllerProcess& controller, std::vector<std::string> words) {
  words.insert(words.begin(), {testing::BinaryPath("opctl"), "--server=" + controller.address()});
  return words;
}

int ConnectLoopback(int port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

// Reads exactly `size` bytes, or until the peer closes (then `closed`), or 60 s pass.
std::string ReadBytes(int fd, size_t size, bool* closed = nullptr) {
  std::string data;
  absl::Time deadline = absl::Now() + absl::Seconds(60);
  char buffer[64 << 10];
  while (data.size() < size && absl::Now() < deadline) {
    pollfd polled{fd, POLLIN, 0};
    if (poll(&polled, 1, 200) <= 0) continue;
    ssize_t got = read(fd, buffer, std::min(sizeof(buffer), size - data.size()));
    if (got <= 0) {
      if (closed != nullptr) *closed = true;
      break;
    }
    data.append(buffer, static_cast<size_t>(got));
  }
  return data;
}

bool SendAll(int fd, const std::string& data) {
  for (size_t sent = 0; sent < data.size();) {
    ssize_t now = send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (now <= 0) return false;
    sent += static_cast<size_t>(now);
  }
  return true;
}

// Sends 1 MiB to Redis with ECHO over one forwarded connection and checks it comes back whole.
std::string EchoMegabyte(int port, int seed) {
  int fd = ConnectLoopback(port);
  if (fd < 0) return "cannot connect";
  std::string payload(1 << 20, '\0');
  for (size_t i = 0; i < payload.size(); ++i) payload[i] = static_cast<char>((i * 31 + seed * 7) & 0xff);
  std::string bulk = absl::StrCat("$", payload.size(), "\r\n");
  std::string request = absl::StrCat("*2\r\n$4\r\nECHO\r\n", bulk, payload, "\r\n");
  std::thread writer([&] { SendAll(fd, request); });  // Redis answers while the request still arrives
  std::string answer = ReadBytes(fd, bulk.size() + payload.size() + 2);
  writer.join();
  close(fd);
  if (answer != bulk + payload + "\r\n") return absl::StrCat("connection ", seed, ": ", answer.size(), " bytes back");
  return "";
}

TEST_F(RedisStackTest, ExecRunsACommandWithItsExitCodeItsStreamsAndStdin) {
  std::string master = CurrentMaster();
  ASSERT_FALSE(master.empty());
  CommandResult fails = controller_->Opctl({"exec", "container/" + master, "--", "false"});
  EXPECT_EQ(fails.exit_code, 1) << fails.err;
  CommandResult seven = controller_->Opctl({"exec", master, "--", "sh", "-c", "echo to-out; echo to-err >&2; exit 7"});
  EXPECT_EQ(seven.exit_code, 7) << seven.err;
  EXPECT_EQ(seven.out, "to-out\n");
  EXPECT_EQ(seven.err, "to-err\n");
  CommandResult piped = controller_->Opctl({"exec", "-i", "container/" + master, "--", "redis-cli"}, "PING\n");
  EXPECT_EQ(piped.exit_code, 0) << piped.err;
  EXPECT_EQ(piped.out, "PONG\n");
  CommandResult third = controller_->Opctl(
      {"exec", "service/redis-sentinel", "--replica", "2", "--", "cat", "/proc/sys/kernel/hostname"});
  EXPECT_EQ(third.exit_code, 0) << third.err;
  EXPECT_EQ(third.out, dockerd_->Docker({"inspect", "-f", "{{.Config.Hostname}}", "redis-sentinel-2"}).out);
  CommandResult missing = controller_->Opctl({"exec", "container/redis-nowhere", "--", "true"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_THAT(missing.err, HasSubstr("container \"redis-nowhere\" not found"));
  EXPECT_EQ(controller_->Opctl({"exec", "container/" + master}).exit_code, 2);  // no command
  EXPECT_THAT(controller_->process().Output(), HasSubstr("exec in container " + master + ": false by "));
}

TEST_F(RedisStackTest, ExecWithATerminalTakesKeysCtrlCAndWindowResizes) {
  std::string master = CurrentMaster();
  ASSERT_FALSE(master.empty());
  auto shell =
      PseudoTerminal::Start(OpctlArgv(*controller_, {"exec", "-it", "container/" + master, "--", "sh"}), 24, 80);
  ASSERT_TRUE(shell.ok()) << shell.status();
  PseudoTerminal& terminal = **shell;
  terminal.Type("stty size\r");
  ASSERT_TRUE(terminal.ReadUntil("24 80", absl::Seconds(60)).ok()) << terminal.shown();
  terminal.Resize(40, 132);
  EXPECT_TRUE(WaitFor(
      [&] {
        terminal.Type("stty size\r");
        return terminal.ReadUntil("40 132", absl::Seconds(1)).ok();
      },
      absl::Seconds(30)))
      << terminal.shown();
  // Ctrl-C interrupts the command in the container, not opctl: the shell there goes on.
  auto sleeping = [&] { return absl::StrContains(Shell(master, "cat /proc/[0-9]*/comm").out, "sleep"); };
  terminal.Type("sleep 300\r");
  ASSERT_TRUE(WaitFor(sleeping, absl::Seconds(30))) << terminal.shown();
  terminal.Type("\x03");
  EXPECT_TRUE(WaitFor([&] { return !sleeping(); }, absl::Seconds(30)));
  terminal.Type("echo after-$((6*7))\r");
  EXPECT_TRUE(terminal.ReadUntil("after-42", absl::Seconds(30)).ok()) << terminal.shown();
  terminal.Type("exit 3\r");
  absl::StatusOr<int> exit_code = terminal.Wait(absl::Seconds(30));
  ASSERT_TRUE(exit_code.ok()) << terminal.shown();
  EXPECT_EQ(*exit_code, 3);

  auto cli = PseudoTerminal::Start(OpctlArgv(*controller_, {"exec", "-it", master, "--", "redis-cli"}), 24, 80);
  ASSERT_TRUE(cli.ok()) << cli.status();
  ASSERT_TRUE((*cli)->ReadUntil("6379>", absl::Seconds(60)).ok()) << (*cli)->shown();
  (*cli)->Type("PING\r");
  EXPECT_TRUE((*cli)->ReadUntil("PONG", absl::Seconds(30)).ok()) << (*cli)->shown();
  (*cli)->Type("\x03");  // redis-cli ends on Ctrl-C, and opctl with it
  absl::StatusOr<int> cli_exit = (*cli)->Wait(absl::Seconds(30));
  ASSERT_TRUE(cli_exit.ok()) << (*cli)->shown();
  EXPECT_EQ(*cli_exit, 0);

  // An opctl killed midway leaves no command running in the container (Docker alone would).
  auto running_cli = [&] { return absl::StrContains(Shell(master, "cat /proc/[0-9]*/comm").out, "redis-cli"); };
  auto killed = PseudoTerminal::Start(OpctlArgv(*controller_, {"exec", "-it", master, "--", "redis-cli"}), 24, 80);
  ASSERT_TRUE(killed.ok()) << killed.status();
  ASSERT_TRUE((*killed)->ReadUntil("6379>", absl::Seconds(60)).ok()) << (*killed)->shown();
  ASSERT_TRUE(running_cli());
  killed->reset();  // SIGKILL
  EXPECT_TRUE(WaitFor([&] { return !running_cli(); }, absl::Seconds(30)));
}

TEST_F(RedisStackTest, PortForwardReachesTheUnpublishedRedisPortForFiftyConnectionsAtOnce) {
  std::string master = CurrentMaster();
  ASSERT_FALSE(master.empty());
  auto forward = testing::Process::Start(OpctlArgv(*controller_, {"port-forward", "container/" + master, ":6379"}),
                                         *data_dir_ + "/port-forward.log");
  ASSERT_TRUE(forward.ok()) << forward.status();
  absl::StatusOr<std::string> line = (*forward)->WaitForLine("Forwarding from 127.0.0.1:", absl::Seconds(30));
  ASSERT_TRUE(line.ok()) << (*forward)->Output();
  int port = 0;
  std::string text = line->substr(line->find("127.0.0.1:") + 10);
  ASSERT_TRUE(absl::SimpleAtoi(text.substr(0, text.find(' ')), &port)) << *line;

  CommandResult ping = testing::RunCommand({"redis-cli", "-p", std::to_string(port), "PING"});
  EXPECT_EQ(ping.out, "PONG\n") << ping.err << (*forward)->Output();
  std::vector<std::string> failures(50);
  std::vector<std::thread> connections;
  for (int i = 0; i < 50; ++i) connections.emplace_back([&, i] { failures[i] = EchoMegabyte(port, i); });
  for (std::thread& connection : connections) connection.join();
  for (const std::string& failure : failures) EXPECT_EQ(failure, "");
  // Each connection closed locally was closed on Redis' side too.
  auto forwarded_clients = [&] {
    int count = 0;
    for (absl::string_view client : absl::StrSplit(Cli(master, {"CLIENT", "LIST"}), '\n')) {
      if (absl::StrContains(client, "addr=127.0.0.1:") && !absl::StrContains(client, "cmd=client")) ++count;
    }
    return count;
  };
  EXPECT_TRUE(WaitFor([&] { return forwarded_clients() == 0; }, absl::Seconds(60))) << Cli(master, {"CLIENT", "LIST"});
  // Redis closing a connection (QUIT) closes the local end.
  int fd = ConnectLoopback(port);
  ASSERT_GE(fd, 0);
  SendAll(fd, "QUIT\r\n");
  bool closed = false;
  EXPECT_EQ(ReadBytes(fd, 1024, &closed), "+OK\r\n");
  EXPECT_TRUE(closed);
  close(fd);
  EXPECT_EQ(testing::RunCommand({"redis-cli", "-p", std::to_string(port), "PING"}).out, "PONG\n");
}

// The row of `name` in a table opctl printed, split into its columns (two or more spaces apart).
std::vector<std::string> RowOf(const std::string& table, const std::string& name) {
  for (absl::string_view line : absl::StrSplit(table, '\n')) {
    if (!absl::StartsWith(line, name + " ")) continue;
    std::vector<std::string> columns;
    for (absl::string_view column : absl::StrSplit(line, absl::ByString("  "), absl::SkipWhitespace())) {
      columns.emplace_back(absl::StripAsciiWhitespace(column));
    }
    return columns;
  }
  return {};
}

TEST_F(RedisStackTest, TopShowsEachContainersUseAndEachNodesSums) {
  // A Sentinel kept busy for a while: its CPU shows (at most 50%: the manifest's cpus is 500m).
  CommandResult started =
      dockerd_->Docker({"exec", "-d", "redis-sentinel-2", "timeout", "60", "sh", "-c", "while :; do :; done"});
  ASSERT_EQ(started.exit_code, 0) << started.err;
  double busy = 0;
  CommandResult top;
  EXPECT_TRUE(WaitFor(
      [&] {
        top = controller_->Opctl({"top", "containers", "-l", "role=sentinel"});
        std::vector<std::string> row = RowOf(top.out, "redis-sentinel-2");
        return row.size() == 8 && absl::SimpleAtod(absl::StripSuffix(row[2], "%"), &busy) && busy > 25;
      },
      absl::Seconds(60)))
      << top.out << top.err;
  EXPECT_EQ(top.exit_code, 0) << top.err;
  std::vector<std::string> sentinel = RowOf(top.out, "redis-sentinel-0");
  ASSERT_EQ(sentinel.size(), 8u) << top.out;
  EXPECT_EQ(sentinel[1], "e2e-redis");
  EXPECT_TRUE(absl::EndsWith(sentinel[3], " / 128MiB")) << sentinel[3];  // the Service's memoryLimit
  int pids = 0;
  EXPECT_TRUE(absl::SimpleAtoi(sentinel[7], &pids) && pids >= 1) << sentinel[7];
  EXPECT_TRUE(RowOf(top.out, "redis-master-0").empty()) << "the selector picks the Sentinels only\n" << top.out;
  // timeout passes its TERM on to the loop.
  Shell("redis-sentinel-2", "for p in /proc/[0-9]*; do grep -qx timeout $p/comm 2>/dev/null && kill ${p#/proc/}; done");

  CommandResult nodes = controller_->Opctl({"top", "nodes"});
  EXPECT_EQ(nodes.exit_code, 0) << nodes.err;
  std::vector<std::string> node = RowOf(nodes.out, "e2e-redis");
  ASSERT_EQ(node.size(), 6u) << nodes.out;
  std::vector<std::string> running = absl::StrSplit(dockerd_->Docker({"ps", "-q"}).out, '\n', absl::SkipEmpty());
  EXPECT_EQ(node[5], std::to_string(running.size())) << nodes.out;
  EXPECT_EQ(controller_->Opctl({"top", "volumes"}).exit_code, 2);
}

}  // namespace
}  // namespace opctl
