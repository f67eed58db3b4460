// Behaviour of the supervisor as a pod's apps see it. Needs root (chroot, setuid, mounts).
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "common/supervisor/seccomp_filter.h"
#include "tests/unit/common/supervisor/test_pod.h"

namespace podrt::supervisor {
namespace {

using testing::TestPod;

TEST(SupervisorRunPod, SingleAppExitCodeIsThePods) {
  TestPod ok_pod;
  ok_pod.add_app("fine", "exit 0");
  EXPECT_EQ(ok_pod.run(), 0);
  EXPECT_EQ(ok_pod.status("fine"), "0\n");

  TestPod pod;
  pod.add_app("three", "exit 3");
  EXPECT_EQ(pod.run(), 3);
  EXPECT_EQ(pod.status("three"), "3\n");
}

TEST(SupervisorRunPod, MissingExecutableIs127AndNotExecutableIs126) {
  TestPod pod;
  pod.add_app("missing", "").exec = {"/bin/nope"};
  EXPECT_EQ(pod.run(), kExitCommandNotFound);
  EXPECT_EQ(pod.status("missing"), "127\n");
  EXPECT_EQ(pod.stderr_text(), "podrt: app missing: exec /bin/nope: No such file or directory\n");

  TestPod path_pod;
  path_pod.add_app("missing", "").exec = {"nope"};  // looked up in the app's PATH=/bin
  EXPECT_EQ(path_pod.run(), kExitCommandNotFound);

  TestPod data_pod;
  testing::write_text(data_pod.root() + "/bin/data", "not a program\n", 0644);
  data_pod.add_app("data", "").exec = {"/bin/data"};
  EXPECT_EQ(data_pod.run(), kExitCannotExecute);
  EXPECT_EQ(data_pod.stderr_text(), "podrt: app data: exec /bin/data: Permission denied\n");
}

TEST(SupervisorRunPod, PathLookupUsesTheAppsPath) {
  TestPod pod;
  ASSERT_EQ(::mkdir((pod.root() + "/sbin").c_str(), 0755), 0);
  ASSERT_EQ(::symlink("/bin/busybox", (pod.root() + "/sbin/true").c_str()), 0);
  AppSpec& app = pod.add_app("true", "");
  app.exec = {"true"};
  app.environment = {"PATH=/nowhere:/sbin"};
  EXPECT_EQ(pod.run(), 0);
}

TEST(SupervisorRunPod, AppSeesItsEnvironmentDirectoryAndIds) {
  TestPod pod;
  AppSpec& app = pod.add_app(
      "ids", "echo \"$GREETING|$(pwd)|$(busybox id -u)|$(busybox id -g)|$(busybox id -G)\" > /tmp/out");
  app.environment = {"PATH=/bin", "GREETING=hello world"};
  app.working_directory = "/work";
  app.user = "app";
  app.group = "appgroup";
  app.supplementary_gids = {2000, 2001};
  EXPECT_EQ(pod.run(), 0);
  EXPECT_EQ(pod.file("/tmp/out"), "hello world|/work|1000|1001|1001 2000 2001\n");
}

TEST(SupervisorRunPod, SetupFailuresAre254WithOneLine) {
  TestPod pod;
  pod.add_app("nodir", "exit 0").working_directory = "/does/not/exist";
  EXPECT_EQ(pod.run(), kExitPodrtFailure);
  EXPECT_EQ(pod.stderr_text(),
            "podrt: app nodir: chdir /does/not/exist: No such file or directory\n");

  TestPod user_pod;
  user_pod.add_app("nouser", "exit 0").user = "ghost";
  EXPECT_EQ(user_pod.run(), kExitPodrtFailure);
  EXPECT_EQ(user_pod.stderr_text(),
            "podrt: app nouser: user \"ghost\" not found in /etc/passwd\n");
}

TEST(SupervisorRunPod, UserLookupStaysInsideTheImage) {
  TestPod pod;
  // A hostile image points /etc/passwd at the host's; after chroot it resolves in the image.
  ASSERT_EQ(::unlink((pod.root() + "/etc/passwd").c_str()), 0);
  ASSERT_EQ(::symlink("/../../../../etc/shadow", (pod.root() + "/etc/passwd").c_str()), 0);
  pod.add_app("evil", "exit 0").user = "root";
  EXPECT_EQ(pod.run(), kExitPodrtFailure);
  EXPECT_NE(pod.stderr_text().find("open /etc/passwd: No such file or directory"),
            std::string::npos)
      << pod.stderr_text();
}

TEST(SupervisorRunPod, LimitsAndOomScoreReachTheApp) {
  TestPod pod;
  AppSpec& app = pod.add_app(
      "limits", "echo \"$(ulimit -n) $(busybox cat /proc/self/oom_score_adj)\" > /tmp/out");
  app.rlimits = {{"RLIMIT_NOFILE", 123, 456}};
  app.oom_score_adj = 432;
  EXPECT_EQ(pod.run(), 0);
  EXPECT_EQ(pod.file("/tmp/out"), "123 432\n");
}

TEST(SupervisorRunPod, AppJoinsItsCgroups) {
  // The v1 pids hierarchy of the test host (hybrid layout).
  const std::string cgroup = "/podrt-supervisor-test-" + std::to_string(::getpid());
  const std::string directory = "/sys/fs/cgroup/pids" + cgroup;
  if (::mkdir(directory.c_str(), 0755) != 0) GTEST_SKIP() << "no v1 pids cgroup hierarchy";
  {
    TestPod pod;
    pod.add_app("grouped", "busybox grep :pids: /proc/self/cgroup > /tmp/cgroup")
        .cgroup_procs_files = {directory + "/cgroup.procs"};
    EXPECT_EQ(pod.run(), 0);
    EXPECT_NE(pod.file("/tmp/cgroup").find(":pids:" + cgroup + "\n"), std::string::npos)
        << pod.file("/tmp/cgroup");
    TestPod failing;
    failing.add_app("ungrouped", "exit 0").cgroup_procs_files = {directory + "/x/cgroup.procs"};
    EXPECT_EQ(failing.run(), kExitPodrtFailure);
    EXPECT_EQ(failing.stderr_text(), "podrt: app ungrouped: join cgroup: open " + directory +
                                         "/x/cgroup.procs: No such file or directory\n");
  }
  EXPECT_EQ(::rmdir(directory.c_str()), 0);
}

TEST(SupervisorRunPod, HandlersRunInOrderAroundTheApp) {
  TestPod pod;
  AppSpec& app = pod.add_app("main", "echo app >> /order; exit 2");
  app.pre_start = {{"/bin/busybox", "sh", "-c", "echo pre1 >> /order"},
                   {"/bin/busybox", "sh", "-c", "echo pre2 >> /order"}};
  app.post_stop = {{"/bin/busybox", "sh", "-c", "echo post1 >> /order"},
                   {"/bin/busybox", "sh", "-c", "echo post2 >> /order; exit 9"}};
  EXPECT_EQ(pod.run(), 2);  // a failing post-stop handler does not change the app's code
  EXPECT_EQ(pod.file("/order"), "pre1\npre2\napp\npost1\npost2\n");
}

TEST(SupervisorRunPod, FailingPreStartKeepsTheAppFromStarting) {
  TestPod pod;
  AppSpec& app = pod.add_app("main", "echo app >> /order");
  app.pre_start = {{"/bin/busybox", "sh", "-c", "echo pre >> /order; exit 5"}};
  app.post_stop = {{"/bin/busybox", "sh", "-c", "echo post >> /order"}};
  EXPECT_EQ(pod.run(), 5);
  EXPECT_EQ(pod.status("main"), "5\n");
  EXPECT_EQ(pod.file("/order"), "pre\n");
}

TEST(SupervisorRunPod, OneFailingAppStopsTheOthers) {
  TestPod pod;
  pod.add_app("server", "exec /bin/busybox sleep 100");
  pod.add_app("stubborn", "trap '' TERM; touch /ready; while true; do busybox sleep 0.05; done");
  pod.add_app("broken", "busybox sleep 0.3; exit 4");
  pod.plan.stop_timeout_seconds = 1;
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(pod.run(), 4);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(pod.status("broken"), "4\n");
  EXPECT_EQ(pod.status("server"), "143\n");    // SIGTERM
  EXPECT_EQ(pod.status("stubborn"), "137\n");  // ignored SIGTERM, SIGKILL after the timeout
}

TEST(SupervisorRunPod, AnAppExitingZeroLeavesTheOthersRunning) {
  TestPod pod;
  pod.add_app("quick", "exit 0");
  pod.add_app("slow", "busybox sleep 0.5; echo done > /tmp/slow; exit 6");
  EXPECT_EQ(pod.run(), 6);
  EXPECT_EQ(pod.status("quick"), "0\n");
  EXPECT_EQ(pod.file("/tmp/slow"), "done\n");
}

TEST(SupervisorRunPod, ForwardsSigtermToTheApps) {
  TestPod pod;
  pod.add_app("worker",
              "trap 'echo got TERM > /tmp/signal; exit 7' TERM; touch /tmp/ready;"
              " while true; do busybox sleep 0.05; done");
  int code = pod.run([&](pid_t supervisor) {
    ASSERT_TRUE(pod.wait_for_file("/tmp/ready"));
    ::kill(supervisor, SIGTERM);
  });
  EXPECT_EQ(code, 7);
  EXPECT_EQ(pod.file("/tmp/signal"), "got TERM\n");
  EXPECT_EQ(pod.status("worker"), "7\n");
}

TEST(SupervisorRunPod, OrphansAreReapedAndKilledWhenThePodEnds) {
  TestPod pod;
  // The subshell exits at once, so its children become the supervisor's: one exits soon
  // (it must be reaped, not left a zombie), one would run for 1000 s (it must be killed).
  pod.add_app("spawner",
              "(busybox sleep 0.1 & echo $! > /tmp/short; busybox sleep 1000 & echo $! > "
              "/tmp/long); exit 0");
  pod.add_app("checker",
              "while [ ! -s /tmp/long ]; do busybox sleep 0.05; done; busybox sleep 0.6;"
              " busybox kill -0 $(busybox cat /tmp/long) && echo alive > /tmp/alive;"
              " busybox cat /proc/$(busybox cat /tmp/short)/stat > /tmp/short.stat 2>&1;"
              " echo checked > /tmp/checked");
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(pod.run(), 0);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_EQ(pod.file("/tmp/checked"), "checked\n");
  EXPECT_EQ(pod.file("/tmp/alive"), "alive\n");  // the long orphan did run during the pod
  // Reaped: its /proc entry is gone (a zombie would still show "Z").
  EXPECT_NE(pod.file("/tmp/short.stat").find("No such file"), std::string::npos)
      << pod.file("/tmp/short.stat");
  pid_t long_lived = std::stoi(pod.file("/tmp/long"));
  bool alive = long_lived > 0 && ::kill(long_lived, 0) == 0;
  EXPECT_FALSE(alive) << "the orphan outlived its pod";
  if (alive) ::kill(long_lived, SIGKILL);  // the test failed: leave nothing behind
}

TEST(SupervisorRunPod, TerminalBecomesTheAppsStdioAndControllingTerminal) {
  TestPod pod;
  int master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(master, 0);
  ASSERT_EQ(::grantpt(master), 0);
  ASSERT_EQ(::unlockpt(master), 0);
  int terminal = ::open(::ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
  ASSERT_GE(terminal, 0);
  // The supervisor inherits the fd across fork, as pod-init inherits it from stage1.
  ASSERT_EQ(::fcntl(terminal, F_SETFD, 0), 0);
  // /dev/tty opens only for a process that has a controlling terminal.
  ASSERT_EQ(::mknod((pod.root() + "/dev/tty").c_str(), S_IFCHR | 0666, makedev(5, 0)), 0);
  pod.add_app("interactive",
              "[ -t 0 ] && [ -t 1 ] && [ -t 2 ] && echo tty > /tmp/tty;"
              " echo hello > /dev/tty && echo ctty > /tmp/ctty")
      .terminal_fd = terminal;
  pod.add_app("batch", "[ -t 0 ] || echo not a tty > /tmp/stdin");
  EXPECT_EQ(pod.run(), 0);
  ::close(terminal);
  ::close(master);
  EXPECT_EQ(pod.file("/tmp/tty"), "tty\n");
  EXPECT_EQ(pod.file("/tmp/ctty"), "ctty\n");
  EXPECT_EQ(pod.file("/tmp/stdin"), "not a tty\n");  // stdin is /dev/null
}

std::string cap_lines(const std::string& status) {
  std::string lines;
  size_t at = 0;
  while ((at = status.find("Cap", at)) != std::string::npos) {
    size_t end = status.find('\n', at);
    lines += status.substr(at, end - at + 1);
    at = end;
  }
  return lines;
}

TEST(SupervisorRunPod, RootAppKeepsExactlyItsCapabilities) {
  TestPod pod;
  pod.add_app("root", "busybox cat /proc/self/status > /tmp/status").capabilities = {
      "CAP_CHOWN", "CAP_KILL"};
  EXPECT_EQ(pod.run(), 0);
  // CAP_CHOWN is bit 0, CAP_KILL bit 5.
  EXPECT_EQ(cap_lines(pod.file("/tmp/status")),
            "CapInh:\t0000000000000021\nCapPrm:\t0000000000000021\n"
            "CapEff:\t0000000000000021\nCapBnd:\t0000000000000021\n"
            "CapAmb:\t0000000000000000\n");
}

TEST(SupervisorRunPod, NonRootAppHasNoCapabilities) {
  TestPod pod;
  AppSpec& app = pod.add_app("user", "busybox cat /proc/self/status > /tmp/status");
  app.capabilities = {"CAP_CHOWN", "CAP_KILL"};
  app.user = "1000";
  app.group = "1000";
  EXPECT_EQ(pod.run(), 0);
  EXPECT_EQ(cap_lines(pod.file("/tmp/status")),
            "CapInh:\t0000000000000000\nCapPrm:\t0000000000000000\n"
            "CapEff:\t0000000000000000\nCapBnd:\t0000000000000021\n"
            "CapAmb:\t0000000000000000\n");
}

TEST(SupervisorRunPod, NoNewPrivilegesReachesTheApp) {
  TestPod pod;
  pod.add_app("nnp", "busybox grep NoNewPrivs /proc/self/status > /tmp/nnp").no_new_privileges =
      true;
  EXPECT_EQ(pod.run(), 0);
  EXPECT_EQ(pod.file("/tmp/nnp"), "NoNewPrivs:\t1\n");
}

TEST(SupervisorRunPod, SeccompRemoveSetFailsTheCallWithTheErrno) {
  TestPod pod;
  pod.add_app("sandboxed",
              "busybox mkdir /tmp/made 2> /tmp/err; echo $? > /tmp/rc; busybox touch /tmp/ok")
      .seccomp = SeccompPolicy{SeccompPolicy::Mode::Remove, {"mkdir", "mkdirat"}, "EXDEV"};
  EXPECT_EQ(pod.run(), 0);
  EXPECT_EQ(pod.file("/tmp/rc"), "1\n");
  EXPECT_NE(pod.file("/tmp/err").find("Invalid cross-device link"), std::string::npos)
      << pod.file("/tmp/err");
  EXPECT_FALSE(sys::path_exists(pod.root() + "/tmp/made"));
  EXPECT_TRUE(sys::path_exists(pod.root() + "/tmp/ok"));
}

TEST(SupervisorRunPod, SeccompWithoutErrnoKillsAndDefaultWhitelistRunsAShell) {
  TestPod pod;
  AppSpec& app = pod.add_app("whitelisted", "busybox ls / > /tmp/ls; busybox uname -s > /tmp/uname");
  app.seccomp = default_seccomp_policy();
  app.user = "app";  // non-root: no_new_privs is forced, or the filter could not be loaded
  app.group = "app";
  EXPECT_EQ(pod.run(), 0) << pod.stderr_text();
  EXPECT_NE(pod.file("/tmp/ls").find("bin"), std::string::npos);

  TestPod kill_pod;
  kill_pod.add_app("killed", "").exec = {"/bin/busybox", "uname"};
  kill_pod.plan.apps[0].seccomp = SeccompPolicy{SeccompPolicy::Mode::Remove, {"uname"}, {}};
  EXPECT_EQ(kill_pod.run(), 128 + SIGSYS);
}

}  // namespace
}  // namespace podrt::supervisor
