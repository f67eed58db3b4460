// podrt run under each stage1: exit codes, stdout/stderr, status, the app's environment,
// user, working directory and hostname, multi-app pods.
#include <nlohmann/json.hpp>

#include "tests/e2e/pods/stage1_fixture.h"

namespace podrt::testing {
namespace {

using Stage1RunTest = Stage1Test;

TEST_P(Stage1RunTest, ExitCodeOutputAndStatus) {
  CommandResult result = shell_in_stage1({}, "echo to-out; echo to-err >&2; exit 5");
  EXPECT_EQ(result.exit_code, 5) << result.err;
  EXPECT_EQ(result.out, "to-out\n");
  EXPECT_NE(result.err.find("to-err"), std::string::npos) << result.err;
  std::vector<std::string> uuids = pod_uuids();
  ASSERT_EQ(uuids.size(), 1u);
  std::string status = podrt_ok({"status", uuids[0]});
  EXPECT_NE(status.find("state=exited"), std::string::npos) << status;
  EXPECT_NE(status.find("app-busybox=5"), std::string::npos) << status;
  EXPECT_EQ(shell_in_stage1({}, "kill -9 $$").exit_code, 137);
}

TEST_P(Stage1RunTest, MissingExecutableIs127AndNotExecutableIs126) {
  CommandResult missing = run_in_stage1({"example.com/busybox", "--exec=/bin/nope"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("/bin/nope"), std::string::npos) << missing.err;
  CommandResult not_executable = run_in_stage1({"example.com/busybox", "--exec=/etc/passwd"});
  EXPECT_EQ(not_executable.exit_code, 126) << not_executable.err;
}

TEST_P(Stage1RunTest, EnvironmentUserWorkingDirectoryAndHostname) {
  CommandResult env = probe_in_stage1({"--set-env=POD_VAR=pod", "--environment=APP_VAR=app"}, {"env"});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_NE(env.out.find("AC_APP_NAME=probe\n"), std::string::npos) << env.out;
  EXPECT_NE(env.out.find("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"),
            std::string::npos);
  EXPECT_NE(env.out.find("POD_VAR=pod\n"), std::string::npos);
  EXPECT_NE(env.out.find("APP_VAR=app\n"), std::string::npos);

  CommandResult named = probe_in_stage1(
      {"--user=user", "--group=user", "--supplementary-gids=65534", "--working-dir=/tmp"}, {"id"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_NE(named.out.find("uid=1000 gid=1000"), std::string::npos) << named.out;
  EXPECT_NE(named.out.find("65534"), std::string::npos) << named.out;
  EXPECT_EQ(probe_in_stage1({"--working-dir=/tmp"}, {"cwd"}).out, "/tmp\n");
  EXPECT_EQ(shell_in_stage1({"--hostname=tenant-a"}, "hostname").out, "tenant-a\n");
}

TEST_P(Stage1RunTest, LargeOutputArrivesWholeAndInOrder) {
  // 4 MB through the control channel (kvm) or a plain pipe (ns): nothing dropped or reordered.
  CommandResult result = shell_in_stage1({}, "yes 0123456789abcdef | head -c 4000000; echo done >&2");
  EXPECT_EQ(result.exit_code, 0) << result.err;
  ASSERT_EQ(result.out.size(), 4000000u);
  std::string line = "0123456789abcdef\n";
  size_t wrong = 0;
  for (size_t i = 0; i < result.out.size(); ++i) wrong += result.out[i] != line[i % line.size()];
  EXPECT_EQ(wrong, 0u);
  EXPECT_NE(result.err.find("done"), std::string::npos) << result.err;
}

TEST_P(Stage1RunTest, MultiAppPodExitsWithTheFirstFailureAndStatusShowsEachApp) {
  // One app fails after a moment, the other would run for a long time and gets stopped.
  std::string uuid = podrt_ok({"prepare", "example.com/busybox", "example.com/probe"});
  uuid.pop_back();
  std::string manifest_path = data_dir() + "/pods/prepared/" + uuid + "/pod";
  nlohmann::json manifest = nlohmann::json::parse(read_text(manifest_path));
  manifest["apps"][0]["app"]["exec"] = {"/bin/sh", "-c", "sleep 0.3; exit 7"};
  manifest["apps"][1]["app"]["exec"] = {"/bin/podrt-probe", "sleep", "60"};
  write_text(manifest_path, manifest.dump());
  std::vector<std::string> args = {"run-prepared"};
  for (const std::string& flag : stage1_flags()) args.push_back(flag);
  args.insert(args.end(), {"--net=none", uuid});
  CommandResult pod = podrt(args);
  EXPECT_EQ(pod.exit_code, 7) << pod.err;
  std::string status = podrt_ok({"status", uuid});
  EXPECT_NE(status.find("app-busybox=7"), std::string::npos) << status;
  EXPECT_NE(status.find("app-probe=143"), std::string::npos) << status;
}

INSTANTIATE_TEST_SUITE_P(Stage1s, Stage1RunTest, ::testing::Values("ns", "kvm", "builtin"), stage1_name);

}  // namespace
}  // namespace podrt::testing
