// Docker and OCI images as pods (issue 6) under each stage1: the image's Entrypoint, Cmd, Env
// and WorkingDir become the app, and its layers (whiteouts applied) its root filesystem.
#include "tests/e2e/oci/oci_fixture.h"
#include "tests/e2e/pods/stage1_fixture.h"

namespace podrt::testing {
namespace {

class OciPodTest : public Stage1Test {
 protected:
  void SetUp() override {
    Stage1Test::SetUp();
    if (IsSkipped()) return;
    ASSERT_EQ(TestImages::get().error(), "");
  }
  /// `podrt --insecure-options=image,http run STAGE1 --net=none ARGS`
  CommandResult run_unverified(std::vector<std::string> args) {
    std::vector<std::string> command = {"--insecure-options=image,http", "run", "--net=none"};
    for (const std::string& flag : stage1_flags()) command.push_back(flag);
    command.insert(command.end(), args.begin(), args.end());
    return podrt(command);
  }
};

TEST_P(OciPodTest, ADockerArchiveRunsWithItsEntrypointEnvAndWorkingDir) {
  CommandResult pod = run_unverified({"docker-archive:" + TestImages::get().docker_archive()});
  EXPECT_EQ(pod.exit_code, 0) << pod.err;
  EXPECT_EQ(pod.out, "hello from oci in /srv\n") << pod.err;
}

TEST_P(OciPodTest, ARegistryImageRunsWithItsLayersApplied) {
  LocalRegistry registry;
  ASSERT_EQ(registry.error(), "");
  ASSERT_EQ(registry.push("oci:" + TestImages::get().layout() + ":v2", "tenant/busybox:v2"), "");
  CommandResult pod = run_unverified({"docker://" + registry.host() + "/tenant/busybox:v2",
                                      "--exec", "/bin/sh", "--", "-c", "ls /srv; exit 7"});
  EXPECT_EQ(pod.exit_code, 7) << pod.err;
  EXPECT_EQ(pod.out, "base\ntwo\n") << "v2's whiteout removed /srv/old: " << pod.err;
}

INSTANTIATE_TEST_SUITE_P(Stage1s, OciPodTest, ::testing::Values("ns", "kvm"), stage1_name);

}  // namespace
}  // namespace podrt::testing
