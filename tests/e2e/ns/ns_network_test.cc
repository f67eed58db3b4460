// Networking only stage1-ns has: the host's network and none (loopback only). The default
// network, two pods talking and forwarded ports: tests/e2e/pods/, under both stage1s.
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

}  // namespace
}  // namespace podrt::testing
