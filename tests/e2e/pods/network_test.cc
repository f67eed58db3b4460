// Pods talking over the default network under each stage1: a server pod in the stage1 under
// test, a stage1-ns client pod, and the server's port forwarded from the host (portmap).
#include <chrono>
#include <thread>

#include "tests/e2e/pods/stage1_fixture.h"

namespace podrt::testing {
namespace {

using Stage1NetworkTest = Stage1Test;

TEST_P(Stage1NetworkTest, TwoPodsTalkAndAPortIsForwardedFromTheHost) {
  // The server serves one line on its port 8080 (the image's "http" port), twice.
  int server = spawn_quietly({PODRT_BINARY, "--dir", data_dir(), "run", stage1_flags()[0],
                              "--port=http:18080", "example.com/busybox", "--exec=/bin/sh", "--",
                              "-c", "for i in 1 2; do echo served | nc -l -p 8080; done"});
  std::string server_ip, server_uuid;
  for (int i = 0; i < 1500 && server_ip.empty(); ++i) {
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
  // nc must be listening: a VM needs its boot first. Try the host side until it answers.
  CommandResult from_host;
  for (int i = 0; i < 100 && from_host.out != "served\n"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    from_host = run_command({"sh", "-c", "busybox nc -w 1 127.0.0.1 18080 </dev/null"});
  }
  EXPECT_EQ(from_host.out, "served\n") << from_host.err;
  CommandResult client = shell({"--net=default"}, "nc " + server_ip + " 8080 </dev/null");
  EXPECT_EQ(client.out, "served\n") << client.err;
  // Whatever happened above, the server pod must not outlive the test.
  if (podrt({"status", "--wait=20s", server_uuid}).exit_code != 0) podrt({"stop", "--force", server_uuid});
  EXPECT_EQ(wait_for(server), 0);
  CommandResult busy_port = shell({"--net=default", "--port=http:18080"}, "true");
  EXPECT_EQ(busy_port.exit_code, 0) << "the port is free again once the pod is gone: " << busy_port.err;
}

INSTANTIATE_TEST_SUITE_P(Stage1s, Stage1NetworkTest, ::testing::Values("ns", "kvm"), stage1_name);

}  // namespace
}  // namespace podrt::testing
