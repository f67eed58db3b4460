// What only --stage1=kvm has: the guest's own kernel, the hypervisor choice, and the faults of
// a VM (no kernel, no QEMU, a guest kernel panic, a hung app stopped, a killed stage1) — each a
// clear error or the documented outcome, and no VM, tap or temp file left behind.
#include <signal.h>
#include <sys/utsname.h>

#include <chrono>
#include <thread>

#include "tests/e2e/pods/stage1_fixture.h"

namespace podrt::testing {
namespace {

class KvmPodTest : public Stage1Test {
 protected:
  /// `podrt run --stage1=kvm ARGS` in the background; waits (up to 30 s: a boot) until the pod runs.
  std::pair<int, std::string> start_kvm(std::vector<std::string> args) {
    args.insert(args.begin(), "--stage1=kvm");
    return start_in_background(std::move(args), 1500);
  }
  /// Waits until the pod's guest has started its apps (the app's `touch` lands in a volume).
  bool wait_for_file(const std::string& path) {
    for (int i = 0; i < 1500; ++i) {
      if (std::filesystem::exists(path)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
};

TEST_P(KvmPodTest, TheAppRunsOnTheGuestKernel) {
  CommandResult result = shell_in_stage1({}, "uname -r");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  utsname host{};
  ::uname(&host);
  EXPECT_EQ(result.out.rfind("6.1.", 0), 0u) << "the guest kernel is Debian's linux-source-6.1: " << result.out;
  EXPECT_NE(result.out, std::string(host.release) + "\n") << "not the host's kernel";
  EXPECT_NE(result.err.find(host_has_hardware_virtualization() ? "--hypervisor=auto: builtin"
                                                               : "--hypervisor=auto: qemu"),
            std::string::npos)
      << "auto says what it picked: " << result.err;
}

TEST_P(KvmPodTest, RefusesWhatAVmCannotDoInOneLine) {
  for (const std::vector<std::string>& flags :
       {std::vector<std::string>{"--net=host"}, {"--hypervisor=vmware"}, {"--private-users"}}) {
    CommandResult refused = shell_in_stage1(flags, "true");
    EXPECT_EQ(refused.exit_code, 254) << flags[0];
    EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
  }
  EXPECT_TRUE(pod_uuids().empty()) << "refused before a pod was prepared";
  if (!host_has_hardware_virtualization()) {
    // podrt's own VMM cannot run Linux here: one line that says why and what to use.
    CommandResult builtin = shell_in_stage1({"--hypervisor=builtin"}, "true");
    EXPECT_EQ(builtin.exit_code, 254);
    EXPECT_EQ(std::count(builtin.err.begin(), builtin.err.end(), '\n'), 1) << builtin.err;
    EXPECT_NE(builtin.err.find("needs hardware virtualization"), std::string::npos) << builtin.err;
    EXPECT_NE(builtin.err.find("--hypervisor=qemu"), std::string::npos) << builtin.err;
  }
}

TEST_P(KvmPodTest, NoKernelOrNoQemuIsAClearErrorAndNoVm) {
  CommandResult no_kernel = run_command({"env", "PODRT_GUEST_KERNEL=" + scratch() + "/missing-vmlinux",
                                         PODRT_BINARY, "--dir", data_dir(), "run", "--stage1=kvm",
                                         "--net=none", "example.com/busybox"});
  EXPECT_EQ(no_kernel.exit_code, 254);
  EXPECT_NE(no_kernel.err.find("make build"), std::string::npos) << no_kernel.err;
  CommandResult no_qemu = run_command({"env", "PATH=/nonexistent", PODRT_BINARY, "--dir", data_dir(),
                                       "run", "--stage1=kvm", "--net=none", "example.com/busybox"});
  EXPECT_EQ(no_qemu.exit_code, 254);
  EXPECT_NE(no_qemu.err.find("qemu-system-x86"), std::string::npos) << no_qemu.err;
}

TEST_P(KvmPodTest, AGuestKernelPanicEndsThePodWithTheConsolesLastLine) {
  CommandResult panic = run_command({"env", "PODRT_KVM_KERNEL_ARGS=rdinit=/no-such-init", PODRT_BINARY,
                                     "--dir", data_dir(), "run", "--stage1=kvm", "--net=none",
                                     "example.com/busybox"});
  EXPECT_EQ(panic.exit_code, 254);
  EXPECT_NE(panic.err.find("Kernel panic"), std::string::npos) << panic.err;
  EXPECT_EQ(std::count(panic.err.begin(), panic.err.end(), '\n'), 2) << "the auto line and the error: " << panic.err;
}

TEST_P(KvmPodTest, StopEndsAHungAppAndAKilledStage1LeavesNoVm) {
  std::string marks = scratch() + "/marks";
  std::filesystem::create_directories(marks);
  // --hypervisor=qemu: host volumes travel over 9p, which only QEMU has (auto may pick builtin).
  std::vector<std::string> hang = {"--net=none", "--hypervisor=qemu", "--volume=marks,kind=host,source=" + marks,
                                   "--mount=volume=marks,target=/marks", "example.com/busybox",
                                   "--exec=/bin/sh", "--", "-c", "touch /marks/$1; exec sleep 600", "sh"};
  std::vector<std::string> first = hang;
  first.push_back("first");
  auto [pid, uuid] = start_kvm(first);
  ASSERT_FALSE(uuid.empty());
  ASSERT_TRUE(wait_for_file(marks + "/first")) << "the app never started";
  // enter goes through the control channel: the command runs in the app, in the guest.
  CommandResult entered = run_command({"sh", "-c", "echo typed | " + std::string(PODRT_BINARY) +
                                       " --dir " + data_dir() + " enter " + uuid +
                                       " -- /bin/sh -c 'cat; echo $AC_APP_NAME; uname -r; exit 4'"});
  EXPECT_EQ(entered.exit_code, 4) << entered.err;
  EXPECT_EQ(entered.out.rfind("typed\nbusybox\n6.1.", 0), 0u) << entered.out;
  CommandResult no_app = podrt({"enter", "--app=nope", uuid, "--", "/bin/true"});
  EXPECT_EQ(no_app.exit_code, 254);
  EXPECT_NE(no_app.err.find("no app nope"), std::string::npos) << no_app.err;
  EXPECT_EQ(podrt({"enter", uuid, "--", "/bin/nonexistent"}).exit_code, 127);
  CommandResult stop = podrt({"stop", uuid});
  EXPECT_EQ(stop.exit_code, 0) << stop.err;
  EXPECT_EQ(wait_for(pid), 143) << "podrt run exits with the app's code: SIGTERM";
  EXPECT_NE(podrt_ok({"status", uuid}).find("app-busybox=143"), std::string::npos);

  std::vector<std::string> second = hang;
  second.push_back("second");
  auto [killed_pid, killed_uuid] = start_kvm(second);
  ASSERT_FALSE(killed_uuid.empty());
  ASSERT_TRUE(wait_for_file(marks + "/second"));
  ::kill(killed_pid, SIGKILL);  // podrt run is stage1 by now (exec)
  wait_for(killed_pid);
  bool vm_gone = false;
  for (int i = 0; i < 250 && !vm_gone; ++i) {
    vm_gone = run_command({"pgrep", "-f", "podrt-" + killed_uuid}).exit_code != 0;
    if (!vm_gone) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_TRUE(vm_gone) << "the VM died with its stage1";
}

TEST_P(KvmPodTest, InteractiveGivesTheAppATerminalWithTheCallersSize) {
  // script(1) gives podrt a terminal, as a user's shell would.
  std::string command = std::string("stty cols 100 rows 30; ") + PODRT_BINARY + " --dir " +
                        data_dir() + " run --stage1=kvm --net=none --interactive example.com/busybox";
  CommandResult result = run_command({"sh", "-c", "(printf 'tty; stty size; exit 9\\n') | "
                                      "script -eqc '" + command + "' /dev/null"});
  EXPECT_EQ(result.exit_code, 9) << result.err;
  EXPECT_NE(result.out.find("/dev/console"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("30 100"), std::string::npos) << result.out;
}

INSTANTIATE_TEST_SUITE_P(Stage1s, KvmPodTest, ::testing::Values("kvm"), stage1_name);

}  // namespace
}  // namespace podrt::testing
