// podrt run under stage1-ns only: PID 1's reaping, the generated hostname, event handlers,
// run-prepared, bad input, --interactive, non-root. (What both stage1s share: tests/e2e/pods/.)
#include <nlohmann/json.hpp>

#include "tests/e2e/ns/ns_fixture.h"

namespace podrt::testing {
namespace {

using NsRunTest = NsPodTest;

TEST_F(NsRunTest, AnUnknownUserIsPodrtsFailure) {
  // (Environment, user, groups and working directory: tests/e2e/pods/, under both stage1s.)
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
