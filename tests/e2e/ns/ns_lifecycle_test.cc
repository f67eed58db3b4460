// Pods in the background under stage1-ns: status --wait, enter, stop (also of an app that
// ignores SIGTERM), gc after stage1 was killed, twenty pods at once.
#include <signal.h>

#include <chrono>
#include <thread>

#include "tests/e2e/ns/ns_fixture.h"

namespace podrt::testing {
namespace {

class NsLifecycleTest : public NsPodTest {
 protected:
  std::pair<int, std::string> start(std::vector<std::string> args) {
    return start_in_background(std::move(args));
  }
};

TEST_F(NsLifecycleTest, StatusWaitEnterAndStop) {
  auto [pid, uuid] = start({"--net=none", "--hostname=entered", "example.com/busybox",
                            "--exec=/bin/sleep", "--", "60"});
  ASSERT_FALSE(uuid.empty());
  CommandResult entered = podrt({"enter", uuid, "--", "/bin/sh", "-c", "hostname; echo $AC_APP_NAME"});
  EXPECT_EQ(entered.exit_code, 0) << entered.err;
  EXPECT_EQ(entered.out, "entered\nbusybox\n");
  EXPECT_EQ(podrt({"enter", uuid, "--", "/bin/sh", "-c", "exit 4"}).exit_code, 4);

  CommandResult wait_short = podrt({"status", "--wait=1s", uuid});
  EXPECT_EQ(wait_short.exit_code, 254) << "still running after 1s";
  auto started = std::chrono::steady_clock::now();
  CommandResult stop = podrt({"stop", uuid});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_LT(std::chrono::steady_clock::now() - started, std::chrono::seconds(5));
  EXPECT_EQ(wait_for(pid), 143) << "podrt run exits with the app's code: SIGTERM";
  std::string status = podrt_ok({"status", "--wait", uuid});
  EXPECT_NE(status.find("state=exited"), std::string::npos) << status;
  EXPECT_NE(podrt({"enter", uuid}).exit_code, 0) << "an exited pod cannot be entered";
}

TEST_F(NsLifecycleTest, CpuLimitsAreInTheAppsCgroup) {
  auto [pid, uuid] = start({"--net=none", "--cpu=250m", "--cpu-shares=512", "example.com/busybox",
                            "--exec=/bin/sleep", "--", "60"});
  ASSERT_FALSE(uuid.empty());
  bool checked = false;
  for (const std::string& dir : own_cgroup_dirs()) {
    std::string app = dir + "/podrt-" + uuid + "/busybox/";
    if (std::filesystem::exists(app + "cpu.cfs_quota_us")) {  // cgroup v1
      EXPECT_EQ(read_text(app + "cpu.cfs_quota_us"), "25000\n");
      EXPECT_EQ(read_text(app + "cpu.shares"), "512\n");
      checked = true;
    } else if (std::filesystem::exists(app + "cpu.max")) {  // cgroup v2
      EXPECT_EQ(read_text(app + "cpu.max"), "25000 100000\n");
      checked = true;
    }
  }
  EXPECT_TRUE(checked) << "no cpu controller found for the pod";
  podrt_ok({"stop", "--force", uuid});
  wait_for(pid);
}

TEST_F(NsLifecycleTest, StopKillsAnAppThatIgnoresSigterm) {
  std::string marker_dir = scratch() + "/marker";
  std::filesystem::create_directories(marker_dir);
  auto [pid, uuid] = start({"--net=none", "--volume=m,kind=host,source=" + marker_dir,
                            "--mount=volume=m,target=/m", "example.com/busybox", "--exec=/bin/sh",
                            "--", "-c", "trap '' TERM; touch /m/ready; while true; do sleep 1; done"});
  ASSERT_FALSE(uuid.empty());
  for (int i = 0; i < 250 && !std::filesystem::exists(marker_dir + "/ready"); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  CommandResult stop = podrt({"stop", "--timeout=1s", uuid});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(wait_for(pid), 137);
}

TEST_F(NsLifecycleTest, GcCleansUpAfterStage1WasKilled) {
  auto [pid, uuid] = start({"example.com/busybox", "--exec=/bin/sleep", "--", "60"});
  ASSERT_FALSE(uuid.empty());
  EXPECT_TRUE(std::filesystem::exists("/run/podrt/netns/" + uuid));
  EXPECT_EQ(ip_leases({uuid}), 1u);
  ::kill(pid, SIGKILL);  // stage1 is the `podrt run` process: it execs, it does not fork
  wait_for(pid);
  std::string status;
  for (int i = 0; i < 100 && status.find("state=exited") == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    status = podrt_ok({"status", uuid});
  }
  EXPECT_NE(status.find("state=exited"), std::string::npos) << status;
  // TearDown runs gc and checks that netns, cgroups and the lease are gone.
}

TEST_F(NsLifecycleTest, PodsOfTwoDataDirsNeverShareAnAddress) {
  // The default network is one subnet with one table of host routes, whatever --dir says.
  auto [pid, uuid] = start({"example.com/busybox", "--exec=/bin/sleep", "--", "60"});
  ASSERT_FALSE(uuid.empty());
  std::string first = podrt_ok({"status", uuid});
  std::string other_dir = scratch() + "/other-data";
  ASSERT_EQ(run_command({PODRT_BINARY, "--dir", other_dir, "--insecure-options=image", "fetch",
                         image_path("busybox.aci")}).exit_code, 0);
  CommandResult second = run_command({PODRT_BINARY, "--dir", other_dir, "run", "example.com/busybox",
                                      "--exec=/bin/sh", "--", "-c", "ip -4 -o addr show eth0"});
  EXPECT_EQ(second.exit_code, 0) << second.err;
  std::string first_ip = first.substr(first.find("ip4=") + 4);
  first_ip = first_ip.substr(0, first_ip.find('\n'));
  EXPECT_FALSE(first_ip.empty()) << first;
  EXPECT_EQ(second.out.find("inet " + first_ip + "/"), std::string::npos)
      << "the second data dir's pod got the first one's address " << first_ip << ": " << second.out;
  run_command({PODRT_BINARY, "--dir", other_dir, "gc", "--grace-period=0"});
  podrt({"stop", "--force", uuid});
  wait_for(pid);
}

TEST_F(NsLifecycleTest, TwentyPodsAtOnceThenGcLeavesNothing) {
  std::vector<int> pids;
  for (int i = 0; i < 20; ++i)
    pids.push_back(spawn_quietly({PODRT_BINARY, "--dir", data_dir(), "run", "example.com/busybox",
                                  "--exec=/bin/sh", "--", "-c", "ip -4 addr show eth0 | grep -q 172.16.28"}));
  for (int pid : pids) EXPECT_EQ(wait_for(pid), 0);
  EXPECT_EQ(pod_uuids().size(), 20u);
  EXPECT_EQ(ip_leases(pod_uuids()), 0u) << "each pod releases its address when it exits";
}

}  // namespace
}  // namespace podrt::testing
