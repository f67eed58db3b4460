// Stage1Test: end-to-end pod tests run under each stage1 — `--stage1=ns` and `--stage1=kvm` —
// wherever the semantics are the same (exit codes, output, env, user, working directory,
// hostname, memory limit, volumes, networking). kvm cases boot a real guest kernel under QEMU
// (TCG here: about a second each) and skip, saying so, where the kernel is not built.
// "builtin" cases are kvm pods under podrt's own VMM (--hypervisor=builtin): they need hardware
// virtualization, so they skip on this project's nested-PVM hosts, and ctest runs them inside a
// software-emulated test host that has it (builtin_pod_tests_in_test_host, tests/vmm/builtin).
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/ns/ns_fixture.h"

namespace podrt::testing {

class Stage1Test : public NsPodTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
    if (is_builtin() && !host_has_hardware_virtualization())
      GTEST_SKIP() << "no hardware virtualization here (vmx/svm, not a nested PVM): pods under "
                      "--hypervisor=builtin were not run directly; builtin_pod_tests_in_test_host "
                      "runs them in a nested test host";
    if (is_kvm() && !std::filesystem::exists(PODRT_GUEST_KERNEL))
      GTEST_SKIP() << "no guest kernel at " << PODRT_GUEST_KERNEL
                   << " (build with PODRT_BUILD_KERNEL=ON): kvm pods were not run";
    NsPodTest::SetUp();
  }

  void TearDown() override {
    std::vector<std::string> uuids = pod_uuids();
    NsPodTest::TearDown();
    // No VM outlives its pod.
    for (const std::string& uuid : uuids)
      EXPECT_NE(run_command({"pgrep", "-f", "podrt-" + uuid}).exit_code, 0) << "a VM of " << uuid;
  }

  bool is_builtin() const { return GetParam() == "builtin"; }
  bool is_kvm() const { return GetParam() == "kvm" || is_builtin(); }
  /// The flags that choose this case's stage1 (and hypervisor).
  std::vector<std::string> stage1_flags() const {
    if (is_builtin()) return {"--stage1=kvm", "--hypervisor=builtin"};
    return {"--stage1=" + GetParam()};
  }
  static bool host_has_hardware_virtualization() {
    std::string cpuinfo = read_text("/proc/cpuinfo"), modules = read_text("/proc/modules");
    bool flag = cpuinfo.find(" vmx") != std::string::npos || cpuinfo.find(" svm") != std::string::npos;
    return flag && std::filesystem::exists("/dev/kvm") && modules.find("kvm_pvm ") == std::string::npos;
  }

  /// `podrt run --stage1=S --net=none ...` unless the arguments choose a network.
  CommandResult run_in_stage1(std::vector<std::string> args) {
    std::vector<std::string> flags = stage1_flags();
    args.insert(args.begin(), flags.begin(), flags.end());
    return run_pod(args);
  }
  CommandResult probe_in_stage1(std::vector<std::string> flags, std::vector<std::string> probe_args) {
    std::vector<std::string> stage1 = stage1_flags();
    flags.insert(flags.begin(), stage1.begin(), stage1.end());
    return probe(flags, probe_args);
  }
  CommandResult shell_in_stage1(std::vector<std::string> flags, const std::string& script) {
    std::vector<std::string> stage1 = stage1_flags();
    flags.insert(flags.begin(), stage1.begin(), stage1.end());
    return shell(flags, script);
  }
};

inline std::string stage1_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace podrt::testing
