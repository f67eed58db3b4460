#include "stage1-ns/network/cni_plugin.h"

#include <sys/stat.h>

#include <gtest/gtest.h>

#include <csignal>
#include <fstream>

#include "stage1-ns/network/child_process.h"
#include "tests/support/command_runner.h"

namespace podrt::stage1::network {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

TEST(CniChildProcessTest, FeedsStdinAndCapturesOutputAndExitCode) {
  auto output = run_process({"/bin/sh", "-c", "cat; echo oops >&2; exit 3"}, {}, "hello", 5s);
  ASSERT_TRUE(output) << output.error().message();
  EXPECT_EQ(output->out, "hello");
  EXPECT_EQ(output->err, "oops\n");
  EXPECT_EQ(output->exit_code, 3);
}

TEST(CniChildProcessTest, PassesExactlyTheGivenEnvironment) {
  auto output = run_process({"/usr/bin/env"}, {"ONLY=this"}, "", 5s);
  ASSERT_TRUE(output) << output.error().message();
  EXPECT_EQ(output->out, "ONLY=this\n");
}

TEST(CniChildProcessTest, AChildPastItsTimeoutIsKilledAndReaped) {
  auto child = ChildProcess::spawn({"/bin/sleep", "30"}, {});
  ASSERT_TRUE(child) << child.error().message();
  pid_t pid = child->pid();
  auto start = std::chrono::steady_clock::now();
  auto output = child->communicate("", 200ms);
  ASSERT_FALSE(output);
  EXPECT_NE(output.error().message().find("timed out"), std::string::npos);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 5s);
  EXPECT_NE(::kill(pid, 0), 0);  // reaped: the pid is gone, not a zombie
}

TEST(CniChildProcessTest, DroppingARunningChildKillsIt) {
  pid_t pid = -1;
  {
    auto child = ChildProcess::spawn({"/bin/sleep", "30"}, {});
    ASSERT_TRUE(child);
    pid = child->pid();
  }
  EXPECT_NE(::kill(pid, 0), 0);
}

class CniPluginTest : public ::testing::Test {
 protected:
  /// A fake plugin in a temp dir: a script printing `stdout_text` and exiting with `code`.
  void write_plugin(const std::string& name, const std::string& script) {
    std::string path = dir_.path() + "/" + name;
    std::ofstream(path) << "#!/bin/sh\n" << script;
    ::chmod(path.c_str(), 0755);
  }
  CniCall call(const std::string& command) {
    CniCall call;
    call.command = command;
    call.container_id = "c1";
    call.ifname = "eth0";
    call.plugin_dirs = {dir_.path()};
    return call;
  }
  testing::TempDir dir_;
};

TEST_F(CniPluginTest, TheInstalledPluginsSpeakCni100) {
  if (::access("/usr/lib/cni/ptp", X_OK) != 0) GTEST_SKIP() << "no CNI plugins installed";
  CniCall version = call("VERSION");
  version.plugin_dirs = {"/usr/lib/cni"};
  auto result = run_cni_plugin({{"cniVersion", kCniVersion}, {"type", "ptp"}}, version);
  ASSERT_TRUE(result) << result.error().message();
  auto supported = (*result)["supportedVersions"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(supported.begin(), supported.end(), kCniVersion), supported.end());
}

TEST_F(CniPluginTest, ThePluginGetsTheCniEnvironmentAndConfigOnStdin) {
  write_plugin("echoer",
               "cfg=$(cat)\n"
               "printf '{\"cmd\":\"%s\",\"id\":\"%s\",\"ifname\":\"%s\",\"args\":\"%s\","
               "\"path\":\"%s\",\"cfg\":%s}' \"$CNI_COMMAND\" \"$CNI_CONTAINERID\" "
               "\"$CNI_IFNAME\" \"$CNI_ARGS\" \"$CNI_PATH\" \"$cfg\"\n");
  CniCall add = call("ADD");
  add.args = "IP=1.2.3.4";
  auto result = run_cni_plugin({{"type", "echoer"}, {"name", "n1"}}, add);
  ASSERT_TRUE(result) << result.error().message();
  EXPECT_EQ((*result)["cmd"], "ADD");
  EXPECT_EQ((*result)["id"], "c1");
  EXPECT_EQ((*result)["ifname"], "eth0");
  EXPECT_EQ((*result)["args"], "IP=1.2.3.4");
  EXPECT_EQ((*result)["path"], dir_.path());
  EXPECT_EQ((*result)["cfg"]["name"], "n1");
}

TEST_F(CniPluginTest, APluginErrorIsOneLineFromItsMsg) {
  write_plugin("failing",
               "cat >/dev/null\n"
               "printf '%s\\n' '{\"cniVersion\":\"1.0.0\",\"code\":11,\"msg\":\"no address\\nleft\"}'\n"
               "exit 1\n");
  auto result = run_cni_plugin({{"type", "failing"}}, call("ADD"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "failing: no address left");
}

TEST_F(CniPluginTest, APluginWithoutErrorJsonReportsItsLastStderrLine) {
  write_plugin("crashing", "echo first >&2\necho 'panic: boom' >&2\nexit 2\n");
  auto result = run_cni_plugin({{"type", "crashing"}}, call("DEL"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "crashing: exited with status 2: panic: boom");
}

TEST_F(CniPluginTest, AMissingPluginSaysWhereItLooked) {
  auto result = run_cni_plugin({{"type", "nope"}}, call("ADD"));
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().message(), "CNI plugin \"nope\" not found in " + dir_.path());
  auto escaping = run_cni_plugin({{"type", "../bin/sh"}}, call("ADD"));
  ASSERT_FALSE(escaping);
}

}  // namespace
}  // namespace podrt::stage1::network
