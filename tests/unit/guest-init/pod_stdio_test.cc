// The apps' stdio in the guest: each app's output in its own pipes, through the real
// supervisor (AppSpec.stdout_fd / stderr_fd). Needs root, like the supervisor's tests.
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <string>

#include <gtest/gtest.h>

#include "guest-init/pod_stdio.h"
#include "tests/unit/common/supervisor/test_pod.h"

namespace podrt::guest_init {
namespace {

using guest_protocol::FrameType;

// Everything left in a non-blocking pipe whose writers are all gone.
std::string drain(int fd) {
  std::string out;
  for (;;) {
    pollfd entry{fd, POLLIN, 0};
    if (::poll(&entry, 1, 5000) <= 0) return out + "<timeout>";
    char buffer[4096];
    ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n <= 0) return out;
    out.append(buffer, static_cast<size_t>(n));
  }
}

TEST(GuestInitPodStdio, EachAppWritesToItsOwnPipes) {
  supervisor::testing::TestPod pod;
  // The second app fails only after the first has written: the pod stops the others at
  // the first failure, so without the wait the first might be killed before its echo.
  pod.add_app("first", "echo out1; echo err1 >&2; : > /tmp/first-wrote");
  pod.add_app("second",
              "echo out2; until [ -e /tmp/first-wrote ]; do busybox sleep 0.01; done; "
              "busybox ls /bin/nope");
  auto stdio = make_pod_stdio(pod.plan, false);
  ASSERT_TRUE(stdio) << stdio.error().message();
  // Both apps' stdout and stderr, then the supervisor's own stderr (relayed as app 0's).
  ASSERT_EQ(stdio->outputs.size(), 5u);
  EXPECT_EQ(stdio->outputs[0].type, FrameType::kStdout);
  EXPECT_EQ(stdio->outputs[1].type, FrameType::kStderr);
  EXPECT_EQ(stdio->outputs[2].channel, 1);
  EXPECT_EQ(stdio->outputs[4].type, FrameType::kStderr);
  EXPECT_EQ(stdio->outputs[4].channel, 0);
  EXPECT_FALSE(stdio->terminal);
  EXPECT_NE(pod.plan.apps[0].stdout_fd, -1);
  EXPECT_NE(pod.plan.apps[1].stderr_fd, -1);
  EXPECT_EQ(pod.plan.apps[0].terminal_fd, -1);

  EXPECT_EQ(pod.run(), 1);
  stdio->child_ends.clear();
  stdio->supervisor_stderr.reset();
  EXPECT_EQ(drain(stdio->outputs[0].fd.get()), "out1\n");
  EXPECT_EQ(drain(stdio->outputs[1].fd.get()), "err1\n");
  EXPECT_EQ(drain(stdio->outputs[2].fd.get()), "out2\n");
  EXPECT_EQ(drain(stdio->outputs[3].fd.get()),
            "ls: /bin/nope: No such file or directory\n");
  // The supervisor's stderr is TestPod's file here; the pipe only ends.
  EXPECT_EQ(drain(stdio->outputs[4].fd.get()), "");
}

TEST(GuestInitPodStdio, AnInteractiveAppGetsAPty) {
  supervisor::PodPlan plan;
  plan.apps.resize(1);
  auto stdio = make_pod_stdio(plan, true);
  ASSERT_TRUE(stdio) << stdio.error().message();
  EXPECT_TRUE(stdio->terminal);
  EXPECT_EQ(stdio->terminal_path.rfind("/dev/pts/", 0), 0u) << stdio->terminal_path;
  EXPECT_NE(plan.apps[0].terminal_fd, -1);
  EXPECT_EQ(plan.apps[0].stdout_fd, -1);
  // The pty's output, then the supervisor's stderr.
  ASSERT_EQ(stdio->outputs.size(), 2u);
  EXPECT_EQ(stdio->outputs[0].type, FrameType::kStdout);
  EXPECT_EQ(stdio->outputs[1].type, FrameType::kStderr);

  plan.apps.resize(2);
  auto two = make_pod_stdio(plan, true);
  ASSERT_FALSE(two);
  EXPECT_EQ(two.error().message(), "an interactive pod needs exactly one app");
}

}  // namespace
}  // namespace podrt::guest_init
