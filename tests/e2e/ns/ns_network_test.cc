// Networking under stage1-ns with the real CNI plugins: the pod's address in status, two pods
// talking over the default network, a port forwarded from the host, host and none networks,
// and the metadata service.
#include <chrono>
#include <thread>

#include "tests/e2e/ns/ns_fixture.h"

namespace podrt::testing {
namespace {

using NsNetworkTest = NsPodTest;

TEST_F(NsNetworkTest, NoneHasOnlyLoopbackAndHostSharesTheHostsInterfaces) {
  EXPECT_EQ(shell({"--net=none"}, "ls /sys/class/net").out, "lo\n");
  // The same namespace, not merely the same interfaces: veths of other pods come and go (the
  // kernel destroys a network namespace asynchronously).
  std::string host_netns = run_command({"readlink", "/proc/self/ns/net"}).out;
  EXPECT_EQ(shell({"--net=host"}, "readlink /proc/self/ns/net").out, host_netns);
  EXPECT_NE(shell({"--net=none"}, "readlink /proc/self/ns/net").out, host_netns);
}

TEST_F(NsNetworkTest, TwoPodsTalkAndAPortIsForwardedFromTheHost) {
  std::string out_file = scratch() + "/server-out";
  // Pod A serves one line on its port 8080 (the image's "http" port), forwarded to the host.
  int server = spawn_quietly({PODRT_BINARY, "--dir", data_dir(), "run", "--port=http:18080",
                              "example.com/busybox", "--exec=/bin/sh", "--", "-c",
                              "for i in 1 2; do echo served | nc -l -p 8080; done"});
  std::string server_ip, server_uuid;
  for (int i = 0; i < 500 && server_ip.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    for (const std::string& uuid : pod_uuids()) {
      std::string status = podrt({"status", uuid}).out;
      size_t at = status.find("ip4=");
      if (at != std::string::npos && status.find("pid=") != std::string::npos) {
        server_ip = status.substr(at + 4, status.find('\n', at) - at - 4);
        server_uuid = uuid;
      }
    }
  }
  ASSERT_FALSE(server_ip.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // nc is listening by now
  CommandResult client = shell({"--net=default"}, "nc " + server_ip + " 8080 </dev/null");
  EXPECT_EQ(client.out, "served\n") << client.err;
  CommandResult from_host = run_command({"sh", "-c", "busybox nc 127.0.0.1 18080 </dev/null"});
  EXPECT_EQ(from_host.out, "served\n") << from_host.err;
  // Whatever happened above, the server pod must not outlive the test.
  if (podrt({"status", "--wait=10s", server_uuid}).exit_code != 0)
    podrt({"stop", "--force", server_uuid});
  EXPECT_EQ(wait_for(server), 0);

  CommandResult busy_port = shell({"--net=default", "--port=http:18080"}, "true");
  EXPECT_EQ(busy_port.exit_code, 0) << "the port is free again once the pod is gone: " << busy_port.err;
}

}  // namespace
}  // namespace podrt::testing
