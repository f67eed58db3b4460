// Stage1Test: end-to-end pod tests run under each stage1 — `--stage1=ns` and `--stage1=kvm` —
// wherever the semantics are the same (exit codes, output, env, user, working directory,
// hostname, memory limit, volumes, networking). kvm cases boot a real guest kernel under QEMU
// (TCG here: about a second each) and skip, saying so, where the kernel is not built.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "tests/e2e/ns/ns_fixture.h"

namespace podrt::testing {

class Stage1Test : public NsPodTest, public ::testing::WithParamInterface<std::string> {
 protected:
  void SetUp() override {
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

  bool is_kvm() const { return GetParam() == "kvm"; }
  std::string stage1_flag() const { return "--stage1=" + GetParam(); }

  /// `podrt run --stage1=S --net=none ...` unless the arguments choose a network.
  CommandResult run_in_stage1(std::vector<std::string> args) {
    args.insert(args.begin(), stage1_flag());
    return run_pod(args);
  }
  CommandResult probe_in_stage1(std::vector<std::string> flags, std::vector<std::string> probe_args) {
    flags.insert(flags.begin(), stage1_flag());
    return probe(flags, probe_args);
  }
  CommandResult shell_in_stage1(std::vector<std::string> flags, const std::string& script) {
    flags.insert(flags.begin(), stage1_flag());
    return shell(flags, script);
  }
};

inline std::string stage1_name(const ::testing::TestParamInfo<std::string>& info) {
  return info.param;
}

}  // namespace podrt::testing
