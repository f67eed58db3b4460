// podrt run under stage1-ns: exit codes, output, the app's environment, user, working
// directory and hostname, PID 1's reaping, multi-app pods.
#include <nlohmann/json.hpp>

#include "tests/e2e/ns/ns_fixture.h"

namespace podrt::testing {
namespace {

using NsRunTest = NsPodTest;

TEST_F(NsRunTest, SingleAppPodExitsWithTheAppsCode) {
  EXPECT_EQ(shell({}, "exit 0").exit_code, 0);
  EXPECT_EQ(shell({}, "exit 3").exit_code, 3);
  CommandResult killed = shell({}, "kill -9 $$");
  EXPECT_EQ(killed.exit_code, 137);
}

TEST_F(NsRunTest, MissingExecutableIs127AndNotExecutableIs126) {
  CommandResult missing = run_pod({"example.com/busybox", "--exec=/bin/nope"});
  EXPECT_EQ(missing.exit_code, 127);
  EXPECT_NE(missing.err.find("/bin/nope"), std::string::npos) << missing.err;
  CommandResult not_executable = run_pod({"example.com/busybox", "--exec=/etc/passwd"});
  EXPECT_EQ(not_executable.exit_code, 126);
}

TEST_F(NsRunTest, StdoutAndStderrPassThroughAndStatusRecordsTheCode) {
  CommandResult result = shell({}, "echo to-out; echo to-err >&2; exit 5");
  EXPECT_EQ(result.out, "to-out\n");
  EXPECT_NE(result.err.find("to-err"), std::string::npos);
  std::vector<std::string> uuids = pod_uuids();
  ASSERT_EQ(uuids.size(), 1u);
  std::string status = podrt_ok({"status", uuids[0]});
  EXPECT_NE(status.find("state=exited"), std::string::npos) << status;
  EXPECT_NE(status.find("app-busybox=5"), std::string::npos) << status;
}

TEST_F(NsRunTest, AppsGetTheirEnvironmentUserAndWorkingDirectory) {
  CommandResult env = probe({"--set-env=POD_VAR=pod", "--environment=APP_VAR=app"}, {"env"});
  ASSERT_EQ(env.exit_code, 0) << env.err;
  EXPECT_NE(env.out.find("AC_APP_NAME=probe\n"), std::string::npos) << env.out;
  EXPECT_NE(env.out.find("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n"),
            std::string::npos);
  EXPECT_NE(env.out.find("POD_VAR=pod\n"), std::string::npos);
  EXPECT_NE(env.out.find("APP_VAR=app\n"), std::string::npos);

  CommandResult named = probe({"--user=user", "--group=user", "--supplementary-gids=65534"}, {"id"});
  ASSERT_EQ(named.exit_code, 0) << named.err;
  EXPECT_NE(named.out.find("uid=1000 gid=1000"), std::string::npos) << named.out;
  EXPECT_NE(named.out.find("65534"), std::string::npos) << named.out;

  CommandResult cwd = probe({"--working-dir=/tmp"}, {"cwd"});
  EXPECT_EQ(cwd.out, "/tmp\n");
  CommandResult unknown_user = probe({"--user=nosuchuser"}, {"id"});
  EXPECT_EQ(unknown_user.exit_code, 254);
  EXPECT_NE(unknown_user.err.find("nosuchuser"), std::string::npos) << unknown_user.err;
}

TEST_F(NsRunTest, HostnameIsPerPod) {
  EXPECT_EQ(shell({"--hostname=tenant-a"}, "hostname").out, "tenant-a\n");
  std::string generated = shell({}, "hostname").out;
  EXPECT_EQ(generated.rfind("podrt-", 0), 0u) << generated;
  EXPECT_NE(generated, "tenant-a\n");
}

TEST_F(NsRunTest, TheAppIsAloneInItsPidNamespaceAndZombiesAreReaped) {
  CommandResult pid = probe({}, {"pid"});
  EXPECT_EQ(pid.out, "2\n") << "PID 1 is the pod init, the app comes next";
  // An app that leaves an orphan behind: the pod still ends when the app does.
  CommandResult orphan = probe({}, {"fork-orphan", "300"});
  EXPECT_EQ(orphan.exit_code, 0) << orphan.err;
  CommandResult zombies = probe({}, {"zombies", "20"});
  EXPECT_EQ(zombies.exit_code, 0) << zombies.err;
}

TEST_F(NsRunTest, MultiAppPodExitsWithTheFirstFailureAndStatusShowsEachApp) {
  CommandResult both = run_pod({"example.com/busybox", "example.com/probe"});
  EXPECT_EQ(both.exit_code, 0) << both.err;

  // A hand-written pod manifest (rkt's --pod-manifest case): one app fails after a moment,
  // the other would run for a long time and gets stopped.
  std::string uuid = podrt_ok({"prepare", "example.com/busybox", "example.com/probe"});
  uuid.pop_back();
  std::string manifest_path = data_dir() + "/pods/prepared/" + uuid + "/pod";
  nlohmann::json manifest = nlohmann::json::parse(read_text(manifest_path));
  manifest["apps"][0]["app"]["exec"] = {"/bin/sh", "-c", "sleep 0.3; exit 7"};
  manifest["apps"][1]["app"]["exec"] = {"/bin/podrt-probe", "sleep", "60"};
  write_text(manifest_path, manifest.dump());
  CommandResult pod = podrt({"run-prepared", "--net=none", uuid});
  EXPECT_EQ(pod.exit_code, 7) << pod.err;
  std::string status = podrt_ok({"status", uuid});
  EXPECT_NE(status.find("app-busybox=7"), std::string::npos) << status;
  EXPECT_NE(status.find("app-probe=143"), std::string::npos) << status;
}

TEST_F(NsRunTest, EventHandlersRunBeforeAndAfterTheApp) {
  std::string log_dir = scratch() + "/log";
  std::filesystem::create_directories(log_dir);
  std::string uuid = podrt_ok({"prepare", "--volume=log,kind=host,source=" + log_dir,
                               "--mount=volume=log,target=/log", "example.com/busybox"});
  uuid.pop_back();
  std::string manifest_path = data_dir() + "/pods/prepared/" + uuid + "/pod";
  nlohmann::json manifest = nlohmann::json::parse(read_text(manifest_path));
  nlohmann::json& app = manifest["apps"][0]["app"];
  app["exec"] = {"/bin/sh", "-c", "echo app >> /log/order"};
  app["eventHandlers"] = {{{"name", "pre-start"}, {"exec", {"/bin/sh", "-c", "echo pre >> /log/order"}}},
                          {{"name", "post-stop"}, {"exec", {"/bin/sh", "-c", "echo post >> /log/order"}}}};
  write_text(manifest_path, manifest.dump());
  CommandResult pod = podrt({"run-prepared", "--net=none", uuid});
  EXPECT_EQ(pod.exit_code, 0) << pod.err;
  EXPECT_EQ(read_text(log_dir + "/order"), "pre\napp\npost\n");
}

TEST_F(NsRunTest, RunPreparedTakesTheSamePath) {
  std::string uuid = podrt_ok({"prepare", "example.com/busybox", "--exec=/bin/echo", "--", "prepared"});
  while (!uuid.empty() && uuid.back() == '\n') uuid.pop_back();
  CommandResult result = podrt({"run-prepared", "--net=none", uuid});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  EXPECT_EQ(result.out, "prepared\n");
  CommandResult again = podrt({"run-prepared", "--net=none", uuid});
  EXPECT_EQ(again.exit_code, 254);
  EXPECT_NE(again.err.find("not prepared"), std::string::npos) << again.err;
}

TEST_F(NsRunTest, BadInputIsOneLineAndLeavesNoPod) {
  CommandResult missing_image = run_pod({"example.com/nothing"});
  EXPECT_EQ(missing_image.exit_code, 254);
  CommandResult bad_memory = run_pod({"--memory=lots", "example.com/busybox"});
  EXPECT_EQ(bad_memory.exit_code, 254);
  EXPECT_NE(bad_memory.err.find("--memory"), std::string::npos) << bad_memory.err;
  CommandResult missing_source =
      run_pod({"--volume=data,kind=host,source=/nonexistent/podrt", "example.com/busybox"});
  EXPECT_EQ(missing_source.exit_code, 254);
  EXPECT_NE(missing_source.err.find("/nonexistent/podrt"), std::string::npos);
  for (const CommandResult* result : {&missing_image, &bad_memory, &missing_source})
    EXPECT_EQ(std::count(result->err.begin(), result->err.end(), '\n'), 1) << result->err;
  EXPECT_TRUE(pod_uuids().empty());
}

TEST_F(NsRunTest, InteractiveGivesTheAppATerminalOfItsOwnWithTheCallersSize) {
  // script(1) gives podrt a terminal, as a user's shell would.
  std::string command = std::string("stty cols 100 rows 30; ") + PODRT_BINARY + " --dir " +
                        data_dir() + " run --net=none --interactive example.com/busybox";
  CommandResult result = run_command({"sh", "-c", "printf 'tty; stty size; exit 9\\n' | "
                                      "script -eqc '" + command + "' /dev/null"});
  EXPECT_EQ(result.exit_code, 9) << result.err;
  EXPECT_NE(result.out.find("/dev/console"), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("30 100"), std::string::npos) << result.out;
  CommandResult no_terminal = run_pod({"--interactive", "example.com/busybox"});
  EXPECT_EQ(no_terminal.exit_code, 254);
  EXPECT_NE(no_terminal.err.find("terminal"), std::string::npos) << no_terminal.err;
}

TEST_F(NsRunTest, NonRootNeedsPrivateUsers) {
  CommandResult result = run_command({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                      PODRT_BINARY, "--dir", scratch() + "/nobody", "run",
                                      "--net=none", "example.com/busybox"});
  EXPECT_EQ(result.exit_code, 254);
  EXPECT_NE(result.err.find("needs root"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace podrt::testing
