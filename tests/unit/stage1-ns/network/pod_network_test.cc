// Runs the real CNI plugins as root: every test creates real namespaces, veths, leases and
// iptables rules, and tears them down again.
#include "stage1-ns/network/pod_network.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <random>
#include <sstream>

#include "stage1-ns/network/netns.h"
#include "stage1-ns/network/network_config.h"
#include "tests/support/command_runner.h"

namespace podrt::stage1::network {
namespace {

namespace fs = std::filesystem;
using testing::run_command;

std::string random_uuid() {
  std::random_device random;
  char text[37];
  std::snprintf(text, sizeof text, "%08x-%04x-%04x-%04x-%04x%08x", random(), random() & 0xffff,
                random() & 0xffff, random() & 0xffff, random() & 0xffff, random());
  return text;
}

/// A host port nobody uses right now.
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  socklen_t length = sizeof address;
  ::bind(fd, reinterpret_cast<sockaddr*>(&address), length);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
  ::close(fd);
  return ntohs(address.sin_port);
}

/// Runs `body` in a forked child that has joined the network namespace at `netns`.
pid_t fork_in_netns(const std::string& netns, const std::function<int()>& body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(netns.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) ::_exit(100);
    ::_exit(body());
  }
  return pid;
}

int exit_code_of(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/// Connects to ip:port and sends `message`; 0 on success.
int send_tcp(const std::string& ip, uint16_t port, const std::string& message) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval timeout{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  sockaddr_in address = {};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  ::inet_pton(AF_INET, ip.c_str(), &address.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) return 1;
  bool sent = ::write(fd, message.data(), message.size()) == static_cast<ssize_t>(message.size());
  ::close(fd);
  return sent ? 0 : 2;
}

/// A child in `netns` listening on TCP `port`: exits 0 once `clients` clients each sent it
/// `expected`.
class Listener {
 public:
  Listener(const std::string& netns, uint16_t port, std::string expected, int clients = 1) {
    int ready[2];
    EXPECT_EQ(::pipe(ready), 0);
    pid_ = fork_in_netns(netns, [&] {
      ::close(ready[0]);
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in address = {};
      address.sin_family = AF_INET;
      address.sin_port = htons(port);
      if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
          ::listen(fd, 4) != 0)
        return 3;
      ::write(ready[1], "r", 1);
      for (;;) {  // one connection per expected client
        pollfd waiting{fd, POLLIN, 0};
        if (::poll(&waiting, 1, 10000) != 1) return 4;
        int client = ::accept(fd, nullptr, nullptr);
        std::string got(expected.size(), '\0');
        ssize_t n = ::recv(client, got.data(), got.size(), MSG_WAITALL);
        ::close(client);
        if (n != static_cast<ssize_t>(expected.size()) || got != expected) return 5;
        if (--clients == 0) return 0;
      }
    });
    ::close(ready[1]);
    char byte = 0;
    EXPECT_EQ(::read(ready[0], &byte, 1), 1) << "listener did not start";
    ::close(ready[0]);
  }
  int wait() { return exit_code_of(std::exchange(pid_, -1)); }
  ~Listener() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      exit_code_of(pid_);
    }
  }

 private:
  pid_t pid_ = -1;
};

/// iptables-save lines (all tables) mentioning `needle`.
std::vector<std::string> iptables_lines_with(const std::string& needle) {
  std::vector<std::string> lines;
  std::istringstream dump(run_command({"iptables-save"}).out);
  for (std::string line; std::getline(dump, line);)
    if (line.find(needle) != std::string::npos) lines.push_back(line);
  return lines;
}

class PodNetworkTest : public ::testing::Test {
 protected:
  struct Pod {
    std::string uuid = random_uuid();
    testing::TempDir dir;
  };

  // One data dir for the suite, as on a real host: one IPAM state for every pod.
  static void SetUpTestSuite() { data_dir_ = new testing::TempDir(); }
  static void TearDownTestSuite() {
    delete data_dir_;
    data_dir_ = nullptr;
  }

  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "needs root";
    if (::access("/usr/lib/cni/ptp", X_OK) != 0) GTEST_SKIP() << "no CNI plugins in /usr/lib/cni";
  }
  void TearDown() override {
    // Whatever a failed assertion left behind goes; the tests themselves check teardown.
    for (const auto& pod : pods_) {
      auto torn_down = teardown_pod_network(pod->dir.path());
      EXPECT_TRUE(torn_down) << torn_down.error().message();
      (void)remove_netns(netns_path_for(pod->uuid));
    }
  }

  Pod& new_pod() { return *pods_.emplace_back(std::make_unique<Pod>()); }
  NetworkOptions options(const Pod& pod, std::vector<std::string> networks,
                         std::vector<PortForward> ports = {}) {
    NetworkOptions options;
    options.networks = std::move(networks);
    options.ports = std::move(ports);
    options.data_dir = data_dir_->path();
    options.pod_dir = pod.dir.path();
    options.pod_uuid = pod.uuid;
    return options;
  }
  PodNetwork setup(const Pod& pod, std::vector<std::string> networks,
                   std::vector<PortForward> ports = {}) {
    auto network = setup_pod_network(options(pod, std::move(networks), std::move(ports)));
    EXPECT_TRUE(network) << network.error().message();
    if (!network) return PodNetwork();
    return std::move(*network);
  }
  static std::string ip_in(const std::string& netns, const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"nsenter", "--net=" + netns, "ip"};
    argv.insert(argv.end(), args.begin(), args.end());
    auto result = run_command(argv);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return result.out;
  }
  // The built-in networks lease host-wide (kBuiltinIpamDir), the user's in the data dir.
  std::string ipam_dir(const std::string& network) {
    bool builtin = network == "default" || network == "default-restricted";
    return (builtin ? std::string(kBuiltinIpamDir) : data_dir_->path() + "/net/ipam") + "/" + network;
  }
  std::string lease_file(const std::string& network, const std::string& ip) {
    return ipam_dir(network) + "/" + ip;
  }
  size_t lease_count(const std::string& network) {
    size_t count = 0;
    std::error_code ec;
    for (const auto& file : fs::directory_iterator(ipam_dir(network), ec))
      if (file.path().filename().string().find('.') != std::string::npos &&
          file.path().filename().string().rfind("last_reserved", 0) != 0)
        ++count;
    return count;
  }
  void write_user_network(const std::string& file, const std::string& text) {
    fs::create_directories(data_dir_->path() + "/net.d");
    std::ofstream(data_dir_->path() + "/net.d/" + file) << text;
  }
  void remove_user_network(const std::string& file) {
    fs::remove(data_dir_->path() + "/net.d/" + file);
  }

  static testing::TempDir* data_dir_;
  std::vector<std::unique_ptr<Pod>> pods_;
};

testing::TempDir* PodNetworkTest::data_dir_ = nullptr;

TEST_F(PodNetworkTest, DefaultGivesEth0InItsSubnetWithLoopbackUpAndADefaultRoute) {
  Pod& pod = new_pod();
  PodNetwork network = setup(pod, {"default"});
  ASSERT_EQ(network.attachments.size(), 1u);
  const NetworkAttachment& eth0 = network.attachments[0];
  EXPECT_FALSE(network.host);
  EXPECT_EQ(network.netns_path, "/run/podrt/netns/" + pod.uuid);
  EXPECT_TRUE(fs::exists(network.netns_path));
  EXPECT_EQ(eth0.network, "default");
  EXPECT_EQ(eth0.interface, "eth0");
  EXPECT_EQ(eth0.subnet, "172.16.28.0/24");
  EXPECT_EQ(eth0.gateway, "172.16.28.1");
  EXPECT_EQ(eth0.ip.rfind("172.16.28.", 0), 0u) << eth0.ip;

  EXPECT_NE(ip_in(network.netns_path, {"-4", "-o", "addr", "show", "eth0"}).find(eth0.ip + "/24"),
            std::string::npos);
  std::string lo = ip_in(network.netns_path, {"-o", "link", "show", "lo"});
  EXPECT_NE(lo.find("LOWER_UP"), std::string::npos) << lo;
  EXPECT_NE(ip_in(network.netns_path, {"-4", "route"}).find("default via 172.16.28.1"),
            std::string::npos);
  // The host does not see it: the interface lives in the pod's namespace only.
  EXPECT_EQ(run_command({"ip", "-4", "-o", "addr"}).out.find(eth0.ip + "/"), std::string::npos);

  auto recorded = read_pod_network(pod.dir.path());
  ASSERT_TRUE(recorded) << recorded.error().message();
  ASSERT_EQ(recorded->size(), 1u);
  EXPECT_EQ((*recorded)[0].ip, eth0.ip);
  EXPECT_EQ((*recorded)[0].subnet, "172.16.28.0/24");
}

TEST_F(PodNetworkTest, TeardownReleasesTheLeaseRemovesTheNamespaceAndRulesAndCanRunTwice) {
  Pod& pod = new_pod();
  PodNetwork network = setup(pod, {"default"});
  ASSERT_EQ(network.attachments.size(), 1u);
  std::string lease = lease_file("default", network.attachments[0].ip);
  EXPECT_TRUE(fs::exists(lease));
  EXPECT_FALSE(iptables_lines_with(pod.uuid).empty());  // ptp's masquerade rules

  ASSERT_TRUE(teardown_pod_network(pod.dir.path()));
  EXPECT_FALSE(fs::exists(lease));
  EXPECT_FALSE(fs::exists(network.netns_path));
  EXPECT_TRUE(iptables_lines_with(pod.uuid).empty());
  auto again = teardown_pod_network(pod.dir.path());
  EXPECT_TRUE(again) << again.error().message();
}

TEST_F(PodNetworkTest, TwoPodsReachEachOther) {
  Pod& a = new_pod();
  Pod& b = new_pod();
  PodNetwork network_a = setup(a, {"default"});
  PodNetwork network_b = setup(b, {"default"});
  ASSERT_EQ(network_a.attachments.size(), 1u);
  ASSERT_EQ(network_b.attachments.size(), 1u);
  EXPECT_NE(network_a.attachments[0].ip, network_b.attachments[0].ip);

  Listener listener(network_a.netns_path, 7000, "hello from b");
  std::string ip_a = network_a.attachments[0].ip;
  pid_t client = fork_in_netns(network_b.netns_path, [&] { return send_tcp(ip_a, 7000, "hello from b"); });
  EXPECT_EQ(exit_code_of(client), 0);
  EXPECT_EQ(listener.wait(), 0);
}

TEST_F(PodNetworkTest, DefaultRestrictedIsHostOnly) {
  Pod& pod = new_pod();
  PodNetwork network = setup(pod, {"default-restricted"});
  ASSERT_EQ(network.attachments.size(), 1u);
  EXPECT_EQ(network.attachments[0].subnet, "172.31.0.0/16");
  std::string routes = ip_in(network.netns_path, {"-4", "route"});
  EXPECT_EQ(routes.find("default"), std::string::npos) << routes;
  EXPECT_NE(routes.find("172.31.0.0/16"), std::string::npos) << routes;
  EXPECT_TRUE(iptables_lines_with(pod.uuid).empty());  // no masquerade
}

TEST_F(PodNetworkTest, NoneHasOnlyLoopback) {
  Pod& pod = new_pod();
  PodNetwork network = setup(pod, {"none"});
  EXPECT_TRUE(network.attachments.empty());
  ASSERT_TRUE(fs::exists(network.netns_path));
  std::string links = ip_in(network.netns_path, {"-o", "link"});
  EXPECT_EQ(std::count(links.begin(), links.end(), '\n'), 1) << links;
  EXPECT_NE(links.find("lo:"), std::string::npos);
  EXPECT_NE(links.find("LOWER_UP"), std::string::npos);
  ASSERT_TRUE(teardown_pod_network(pod.dir.path()));
  EXPECT_FALSE(fs::exists(network.netns_path));
}

TEST_F(PodNetworkTest, HostHasNoNamespaceAndTakesNoPorts) {
  Pod& pod = new_pod();
  PodNetwork network = setup(pod, {"host"});
  EXPECT_TRUE(network.host);
  EXPECT_TRUE(network.netns_path.empty());
  EXPECT_FALSE(fs::exists(netns_path_for(pod.uuid)));

  Pod& other = new_pod();
  auto with_ports = setup_pod_network(options(other, {"host"}, {{"http", "tcp", 80, free_port(), {}}}));
  ASSERT_FALSE(with_ports);
  EXPECT_EQ(with_ports.error().message(), "port forwarding needs a contained network, not --net=host");
  auto none_ports = setup_pod_network(options(other, {"none"}, {{"http", "tcp", 80, free_port(), {}}}));
  ASSERT_FALSE(none_ports);
  EXPECT_EQ(none_ports.error().message(), "port forwarding needs a contained network, not --net=none");
  EXPECT_FALSE(fs::exists(netns_path_for(other.uuid)));
}

TEST_F(PodNetworkTest, AForwardedPortReachesThePodFromTheHostAndFromAnotherPod) {
  Pod& server = new_pod();
  Pod& client = new_pod();
  uint16_t host_port = free_port();
  PodNetwork network = setup(server, {"default"}, {{"http", "tcp", 8080, host_port, {}}});
  PodNetwork client_network = setup(client, {"default"});
  ASSERT_EQ(network.attachments.size(), 1u);
  ASSERT_EQ(client_network.attachments.size(), 1u);
  EXPECT_EQ(network.port_reservations.size(), 1u);
  std::vector<std::string> rules = iptables_lines_with(server.uuid);
  EXPECT_FALSE(iptables_lines_with("--dport " + std::to_string(host_port)).empty());

  Listener listener(network.netns_path, 8080, "ping", 2);
  // Through 127.0.0.1 (portmap's snat and route_localnet) ...
  EXPECT_EQ(send_tcp("127.0.0.1", host_port, "ping"), 0);
  // ... and from another pod, to the host's address on that pod's link.
  std::string gateway = client_network.attachments[0].gateway;
  pid_t other = fork_in_netns(client_network.netns_path, [&] { return send_tcp(gateway, host_port, "ping"); });
  EXPECT_EQ(exit_code_of(other), 0);
  EXPECT_EQ(listener.wait(), 0);

  ASSERT_TRUE(teardown_pod_network(server.dir.path()));
  EXPECT_TRUE(iptables_lines_with(server.uuid).empty());
  EXPECT_TRUE(iptables_lines_with("--dport " + std::to_string(host_port)).empty());
  EXPECT_FALSE(fs::exists(lease_file("default", network.attachments[0].ip)));
}

TEST_F(PodNetworkTest, AHostPortInUseFailsInOneLineAndLeavesNothingBehind) {
  Pod& first = new_pod();
  uint16_t host_port = free_port();
  PodNetwork network = setup(first, {"default"}, {{"http", "tcp", 80, host_port, {}}});
  ASSERT_EQ(network.attachments.size(), 1u);
  size_t leases = lease_count("default");

  Pod& second = new_pod();
  auto taken = setup_pod_network(options(second, {"default"}, {{"http", "tcp", 80, host_port, {}}}));
  ASSERT_FALSE(taken);
  EXPECT_EQ(taken.error().message(), "port " + std::to_string(host_port) + "/tcp is already in use");
  EXPECT_FALSE(fs::exists(netns_path_for(second.uuid)));
  EXPECT_FALSE(fs::exists(second.dir.path() + "/net-info.json"));
  EXPECT_EQ(lease_count("default"), leases);
  EXPECT_TRUE(iptables_lines_with(second.uuid).empty());

  // Once the first pod lets go of it, the port can be had again.
  network.port_reservations.clear();
  ASSERT_TRUE(teardown_pod_network(first.dir.path()));
  PodNetwork again = setup(second, {"default"}, {{"http", "tcp", 80, host_port, {}}});
  EXPECT_EQ(again.port_reservations.size(), 1u);
}

TEST_F(PodNetworkTest, UserNetworksAttachInOrderWithTheirCniArgs) {
  write_user_network("20-extra.conf", R"({"cniVersion": "1.0.0", "name": "extra", "type": "ptp",
      "ipam": {"type": "host-local", "subnet": "10.213.77.0/24"},
      "dns": {"nameservers": ["10.213.77.1"], "search": ["pods.example"]}})");
  Pod& pod = new_pod();
  PodNetwork network = setup(pod, {"default", "extra:IP=10.213.77.42"});
  remove_user_network("20-extra.conf");
  ASSERT_EQ(network.attachments.size(), 2u);
  EXPECT_EQ(network.attachments[1].network, "extra");
  EXPECT_EQ(network.attachments[1].interface, "eth1");
  EXPECT_EQ(network.attachments[1].ip, "10.213.77.42");
  EXPECT_NE(ip_in(network.netns_path, {"-4", "-o", "addr", "show", "eth1"}).find("10.213.77.42/24"),
            std::string::npos);
  EXPECT_EQ(network.dns_servers, std::vector<std::string>{"10.213.77.1"});
  EXPECT_EQ(network.dns_search, std::vector<std::string>{"pods.example"});
  // Setting it up twice would lose track of the first one.
  auto twice = setup_pod_network(options(pod, {"default"}));
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().message(), "set up pod network: the pod's network is already set up");
  // Its lease is kept in podrt's data dir too.
  EXPECT_TRUE(fs::exists(lease_file("extra", "10.213.77.42")));
  ASSERT_TRUE(teardown_pod_network(pod.dir.path()));
  EXPECT_FALSE(fs::exists(lease_file("extra", "10.213.77.42")));
}

TEST_F(PodNetworkTest, ABadUserNetworkConfigIsAOneLineError) {
  write_user_network("10-bad.conf", "{ \"name\": \"bad\",\n  \"type\": ");
  Pod& pod = new_pod();
  auto network = setup_pod_network(options(pod, {"default"}));
  remove_user_network("10-bad.conf");
  ASSERT_FALSE(network);
  std::string message = network.error().message();
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_EQ(message.rfind("network config " + data_dir_->path() + "/net.d/10-bad.conf: ", 0), 0u)
      << message;
  EXPECT_FALSE(fs::exists(netns_path_for(pod.uuid)));

  write_user_network("10-notype.conf", R"({"name": "notype"})");
  auto no_type = setup_pod_network(options(pod, {"notype"}));
  remove_user_network("10-notype.conf");
  ASSERT_FALSE(no_type);
  EXPECT_NE(no_type.error().message().find("no \"type\""), std::string::npos);

  auto unknown = setup_pod_network(options(pod, {"nosuchnet"}));
  ASSERT_FALSE(unknown);
  EXPECT_EQ(unknown.error().message().rfind("network nosuchnet not found", 0), 0u);
}

TEST_F(PodNetworkTest, ASetupFailingHalfWayUndoesWhatItDid) {
  write_user_network("30-broken.conf", R"({"cniVersion": "1.0.0", "name": "broken", "type": "ptp",
      "ipam": {"type": "host-local", "subnet": "not-a-subnet"}})");
  Pod& pod = new_pod();
  size_t leases = lease_count("default");
  auto network = setup_pod_network(options(pod, {"default", "broken"}));
  remove_user_network("30-broken.conf");
  ASSERT_FALSE(network);
  std::string message = network.error().message();
  EXPECT_EQ(message.rfind("network broken: ptp: ", 0), 0u) << message;
  EXPECT_EQ(message.find('\n'), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(netns_path_for(pod.uuid)));
  EXPECT_FALSE(fs::exists(pod.dir.path() + "/net-info.json"));
  EXPECT_EQ(lease_count("default"), leases);  // default's ADD had succeeded; DEL freed it
  EXPECT_TRUE(iptables_lines_with(pod.uuid).empty());
}

TEST_F(PodNetworkTest, TeardownCopesWithAVanishedNamespaceAndWithNoNetworkAtAll) {
  Pod& pod = new_pod();
  PodNetwork network = setup(pod, {"default-restricted"});
  ASSERT_EQ(network.attachments.size(), 1u);
  ASSERT_TRUE(remove_netns(network.netns_path));
  auto torn_down = teardown_pod_network(pod.dir.path());
  EXPECT_TRUE(torn_down) << torn_down.error().message();
  EXPECT_FALSE(fs::exists(lease_file("default-restricted", network.attachments[0].ip)));

  Pod& never = new_pod();
  EXPECT_TRUE(teardown_pod_network(never.dir.path()));
  auto nothing = read_pod_network(never.dir.path());
  ASSERT_TRUE(nothing);
  EXPECT_TRUE(nothing->empty());
}

}  // namespace
}  // namespace podrt::stage1::network
