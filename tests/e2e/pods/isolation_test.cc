// What a pod's isolation does under each stage1, seen from inside: the memory limit (an OOM
// kill the pod reports), host and empty volumes, the default network with the metadata service.
#include "tests/e2e/pods/stage1_fixture.h"

namespace podrt::testing {
namespace {

using Stage1IsolationTest = Stage1Test;

TEST_P(Stage1IsolationTest, AnAppOverItsMemoryLimitIsOomKilledAndThePodSaysSo) {
  CommandResult within = probe_in_stage1({"--memory=64M"}, {"memhog", "16"});
  EXPECT_EQ(within.exit_code, 0) << within.err;
  // 96 MiB: over the limit, yet within what a default 128 MiB VM can map at all.
  CommandResult over = probe_in_stage1({"--memory=32M"}, {"memhog", "96"});
  EXPECT_EQ(over.exit_code, 137) << over.err;
  EXPECT_NE(over.err.find("out of memory"), std::string::npos) << over.err;
}

TEST_P(Stage1IsolationTest, CapabilitiesAndSeccompAreTheSameInsideEitherStage1) {
  // appc's 14 default capabilities, bounding and effective; Docker's allow-list as the filter.
  CommandResult defaults = probe_in_stage1({}, {"caps"});
  EXPECT_NE(defaults.out.find("CapBnd=00000000a80425fb"), std::string::npos) << defaults.out;
  CommandResult filtered = probe_in_stage1({}, {"seccomp"});
  EXPECT_NE(filtered.out.find("Seccomp=2"), std::string::npos) << filtered.out;
  CommandResult removed = probe_in_stage1({"--seccomp=mode=remove,errno=ENOSYS,getcwd"}, {"cwd"});
  EXPECT_NE(removed.exit_code, 0);
  EXPECT_NE(removed.err.find("Function not implemented"), std::string::npos) << removed.err;
}

TEST_P(Stage1IsolationTest, HostVolumesReadWriteAndReadOnlyAndEmptyVolumes) {
  std::string rw_dir = scratch() + "/rw", ro_dir = scratch() + "/ro";
  std::filesystem::create_directories(rw_dir);
  std::filesystem::create_directories(ro_dir);
  write_text(rw_dir + "/from-host", "hello from the host\n");
  if (is_builtin()) {
    // The builtin VMM has no 9p: host volumes are refused in one line that names what to use.
    CommandResult refused = shell_in_stage1(
        {"--volume=data,kind=host,source=" + rw_dir, "--mount=volume=data,target=/data"}, "true");
    EXPECT_EQ(refused.exit_code, 254) << refused.err;
    EXPECT_NE(refused.err.find("--hypervisor=qemu"), std::string::npos) << refused.err;
    EXPECT_EQ(std::count(refused.err.begin(), refused.err.end(), '\n'), 1) << refused.err;
    return;
  }
  std::vector<std::string> flags = {
      "--volume=data,kind=host,source=" + rw_dir, "--mount=volume=data,target=/data",
      "--volume=fixed,kind=host,source=" + ro_dir + ",readOnly=true",
      "--mount=volume=fixed,target=/fixed", "--volume=scratch,kind=empty,mode=0700",
      "--mount=volume=scratch,target=/scratch"};
  // Host volumes travel over 9p, which only QEMU has (auto picks builtin on hardware hosts).
  if (is_kvm()) flags.push_back("--hypervisor=qemu");
  CommandResult pod = shell_in_stage1(
      flags,
      "cat /data/from-host && echo written > /data/from-pod; "
      "echo x > /fixed/other || echo read-only; ls -A /scratch | wc -l; stat -c %a /scratch");
  EXPECT_EQ(pod.exit_code, 0) << pod.err;
  EXPECT_EQ(pod.out, "hello from the host\nread-only\n0\n700\n") << pod.err;
  EXPECT_EQ(read_text(rw_dir + "/from-pod"), "written\n");
  EXPECT_FALSE(std::filesystem::exists(ro_dir + "/other"));
}

TEST_P(Stage1IsolationTest, DefaultNetworkGivesAnAddressAndTheMetadataService) {
  CommandResult result = shell_in_stage1({"--net=default"},
                                         "ip -4 -o addr show eth0; "
                                         "wget -qO- $AC_METADATA_URL/acMetadata/v1/pod/uuid");
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("inet 172.16.28."), std::string::npos) << result.out;
  std::string uuid = pod_uuids()[0];
  EXPECT_NE(result.out.find(uuid), std::string::npos) << result.out;
  std::string status = podrt_ok({"status", uuid});
  EXPECT_NE(status.find("networks=default:ip4=172.16.28."), std::string::npos) << status;
}

INSTANTIATE_TEST_SUITE_P(Stage1s, Stage1IsolationTest, ::testing::Values("ns", "kvm", "builtin"), stage1_name);

}  // namespace
}  // namespace podrt::testing
