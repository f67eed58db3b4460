// The static podrt-pod-init binary, run as stage1-ns runs it: plan in a memfd.
#include <limits.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/unit/common/supervisor/test_pod.h"

namespace podrt::supervisor {
namespace {

// podrt-pod-init is built into the same bin/ directory as this test binary.
std::string pod_init_path() {
  char self[PATH_MAX] = {};
  ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string path(self, n > 0 ? static_cast<size_t>(n) : 0);
  return path.substr(0, path.rfind('/') + 1) + "podrt-pod-init";
}

// Runs podrt-pod-init with `plan_text` in a memfd as fd 3 and returns its exit code.
int run_pod_init(const std::string& plan_text, std::string extra_arg = "--plan-fd=3") {
  int memfd = ::memfd_create("plan", MFD_CLOEXEC);
  EXPECT_GE(memfd, 0);
  EXPECT_EQ(::write(memfd, plan_text.data(), plan_text.size()),
            static_cast<ssize_t>(plan_text.size()));
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, memfd, 3);  // dup2 clears CLOEXEC on fd 3
  std::string binary = pod_init_path();
  char* argv[] = {binary.data(), extra_arg.data(), nullptr};
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  ::close(memfd);
  EXPECT_EQ(rc, 0) << binary << ": " << std::strerror(rc) << " (build podrt-pod-init)";
  if (rc != 0) return -1;
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
}

TEST(PodInitBinary, RunsThePlanFromAMemfd) {
  testing::TestPod pod;
  pod.add_app("hello", "echo hi > /tmp/hi; exit 3");
  EXPECT_EQ(run_pod_init(to_json(pod.plan).dump()), 3);
  EXPECT_EQ(pod.status("hello"), "3\n");
  EXPECT_EQ(pod.file("/tmp/hi"), "hi\n");
}

TEST(PodInitBinary, BadArgumentsOrPlanExit254) {
  EXPECT_EQ(run_pod_init("{}"), kExitPodrtFailure);
  EXPECT_EQ(run_pod_init("not json"), kExitPodrtFailure);
  EXPECT_EQ(run_pod_init("{}", "--plan-fd=x"), kExitPodrtFailure);
  EXPECT_EQ(run_pod_init("{}", "--plan-fd=99"), kExitPodrtFailure);  // not open
}

}  // namespace
}  // namespace podrt::supervisor
