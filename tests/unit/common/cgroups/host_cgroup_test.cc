// Cgroup against the real hierarchies of this host: processes join, limits bite, destroy()
// leaves nothing. Needs root; skips where the host lacks a hierarchy.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <map>
#include <optional>
#include <thread>

#include "common/cgroups/cgroup.h"
#include "common/sys/file.h"

namespace podrt::cgroups {
namespace {

using namespace std::chrono_literals;

// A forked child held at a pipe until release(), so it can be put in a cgroup before it acts.
// Killed and reaped on destruction if the test did not wait for it.
class HeldChild {
 public:
  template <class Body>
  explicit HeldChild(Body body) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[1]);
      char go;
      if (::read(fds[0], &go, 1) != 1) ::_exit(100);
      body();
      ::_exit(0);
    }
    ::close(fds[0]);
    go_ = fds[1];
  }
  HeldChild(const HeldChild&) = delete;
  HeldChild& operator=(const HeldChild&) = delete;
  ~HeldChild() {
    if (go_ >= 0) ::close(go_);
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  pid_t pid() const { return pid_; }
  void release() {
    char go = 1;
    ASSERT_EQ(::write(go_, &go, 1), 1);
    ::close(go_);
    go_ = -1;
  }
  /// The wait status.
  int wait() {
    int status = 0;
    EXPECT_EQ(::waitpid(pid_, &status, 0), pid_);
    waited_ = true;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int go_ = -1;
  bool waited_ = false;
};

// Reads exactly `size` bytes from a pipe (the child's report).
bool read_report(int fd, void* data, size_t size) {
  return ::read(fd, data, size) == static_cast<ssize_t>(size);
}

// True once `pid` no longer exists; reaps what reaches us (we are a subreaper) meanwhile.
bool vanishes(pid_t pid) {
  auto deadline = std::chrono::steady_clock::now() + 3s;
  while (std::chrono::steady_clock::now() < deadline) {
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    std::this_thread::sleep_for(5ms);
  }
  return false;
}

std::string read_text(const std::string& path) {
  auto text = sys::read_file(path);
  return text ? *text : "<" + text.error().message() + ">";
}

bool any_has(const std::vector<std::string>& directories, std::initializer_list<const char*> files) {
  for (const std::string& directory : directories)
    for (const char* file : files)
      if (sys::path_exists(directory + "/" + file)) return true;
  return false;
}

class CgroupHostTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::geteuid() != 0) GTEST_SKIP() << "not root: real cgroups not covered";
    auto detected = Hierarchies::detect();
    ASSERT_TRUE(detected) << detected.error().message();
    hierarchies_ = std::move(*detected);
    if (hierarchies_.mode == CgroupMode::None)
      GTEST_SKIP() << "no cgroup hierarchy mounted: real cgroups not covered";
    // Orphaned grandchildren come to us, to be reaped, instead of to the sandbox's init.
    ASSERT_EQ(::prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    static int counter = 0;
    relative_ = "podrt-unit-test/" + std::to_string(::getpid()) + "-" + std::to_string(++counter);
  }

  void TearDown() override {
    if (pod_) {
      auto destroyed = pod_->destroy();
      EXPECT_TRUE(destroyed) << destroyed.error().message();
      if (!destroyed) {
        // destroy() is what is under test: make sure no process outlives a failed one.
        kill_leftovers();
        (void)pod_->destroy();
      }
      // The shared parent goes too unless another test run still uses it.
      for (const std::string& directory : pod_->directories())
        ::rmdir(directory.substr(0, directory.rfind('/')).c_str());
    }
    while (::waitpid(-1, nullptr, WNOHANG) > 0) {
    }
    ::prctl(PR_SET_CHILD_SUBREAPER, 0);
  }

  void kill_leftovers() {
    for (int round = 0; round < 100; ++round) {
      std::string pids;
      for (const std::string& directory : pod_->directories()) {
        std::string command = "find " + directory +
                              " -name cgroup.procs -exec cat {} + 2>/dev/null";
        if (FILE* pipe = ::popen(command.c_str(), "r")) {
          char buffer[4096];
          while (size_t n = ::fread(buffer, 1, sizeof buffer, pipe)) pids.append(buffer, n);
          ::pclose(pipe);
        }
      }
      if (pids.find_first_of("0123456789") == std::string::npos) return;
      for (size_t at = 0; (at = pids.find_first_of("0123456789", at)) != std::string::npos;) {
        size_t end = pids.find('\n', at);
        ::kill(std::stoi(pids.substr(at, end - at)), SIGKILL);
        at = end;
      }
      while (::waitpid(-1, nullptr, WNOHANG) > 0) {
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  const Cgroup& make_pod() {
    auto created = Cgroup::create(hierarchies_, relative_);
    EXPECT_TRUE(created) << created.error().message();
    if (created) pod_.emplace(std::move(*created));
    return *pod_;
  }

  Hierarchies hierarchies_;
  std::string relative_;
  std::optional<Cgroup> pod_;
};

TEST_F(CgroupHostTest, ChildJoinsThePodCgroupInEveryHierarchy) {
  const Cgroup& pod = make_pod();
  ASSERT_TRUE(pod_);
  std::vector<Hierarchy> used = hierarchies_.for_pods();
  ASSERT_EQ(pod.directories().size(), used.size());

  HeldChild child([] { ::pause(); });
  auto added = pod.add_process(child.pid());
  ASSERT_TRUE(added) << added.error().message();

  // /proc/<pid>/cgroup: "ID:CONTROLLERS:PATH" per hierarchy.
  std::map<std::string, std::string> paths;
  std::string text = read_text("/proc/" + std::to_string(child.pid()) + "/cgroup");
  for (size_t start = 0; start < text.size();) {
    size_t end = text.find('\n', start);
    std::string line = text.substr(start, end - start);
    size_t first = line.find(':'), second = line.find(':', first + 1);
    paths[line.substr(first + 1, second - first - 1)] = line.substr(second + 1);
    start = end == std::string::npos ? text.size() : end + 1;
  }
  for (size_t i = 0; i < used.size(); ++i) {
    std::string controllers;
    for (const std::string& name : used[i].controllers)
      controllers += (controllers.empty() ? "" : ",") + name;
    const std::string& directory = pod.directories()[i];
    ASSERT_EQ(directory.rfind(used[i].mount_point, 0), 0u) << directory;
    std::string path = directory.substr(used[i].mount_point.size());
    if (!used[i].unified || hierarchies_.mode != CgroupMode::V2) {
      EXPECT_EQ(path, (used[i].own_path == "/" ? "" : used[i].own_path) + "/" + relative_);
    }
    EXPECT_EQ(paths[controllers], path) << "hierarchy \"" << controllers << "\" in:\n" << text;
  }

  ASSERT_TRUE(pod.destroy());
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
}

TEST_F(CgroupHostTest, MemoryLimitGetsAHungryChildOomKilled) {
  const Cgroup& pod = make_pod();
  ASSERT_TRUE(pod_);
  if (!any_has(pod.directories(), {"memory.limit_in_bytes", "memory.max"}))
    GTEST_SKIP() << "no memory controller for pods here: memory limit not covered";
  auto applied = pod.apply({.memory_bytes = 32u << 20});
  ASSERT_TRUE(applied) << applied.error().message();
  auto before = pod.oom_kill_count();
  ASSERT_TRUE(before) << before.error().message();
  EXPECT_EQ(*before, 0u);

  HeldChild child([] {
    const size_t size = 128u << 20;
    void* memory = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (memory == MAP_FAILED) ::_exit(2);
    for (size_t offset = 0; offset < size; offset += 4096) static_cast<char*>(memory)[offset] = 1;
  });
  ASSERT_TRUE(pod.add_process(child.pid()));
  child.release();
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)
      << "the child touched 128 MiB under a 32 MiB limit and was not killed; status " << status;
  auto after = pod.oom_kill_count();
  ASSERT_TRUE(after) << after.error().message();
  EXPECT_GE(*after, 1u);
}

TEST_F(CgroupHostTest, PidsLimitStopsForks) {
  const Cgroup& pod = make_pod();
  ASSERT_TRUE(pod_);
  if (!any_has(pod.directories(), {"pids.max"}))
    GTEST_SKIP() << "no pids controller for pods here: pids limit not covered";
  ASSERT_TRUE(pod.apply({.pids_max = 4}));

  int report[2];
  ASSERT_EQ(::pipe2(report, O_CLOEXEC), 0);
  HeldChild child([&] {
    pid_t started[11] = {};  // count, then pids
    for (int i = 0; i < 10; ++i) {
      pid_t pid = ::fork();
      if (pid == 0)
        for (;;) ::pause();
      if (pid < 0) break;
      started[++started[0]] = pid;
    }
    if (::write(report[1], started, sizeof started) < 0) ::_exit(3);
    for (;;) ::pause();
  });
  ::close(report[1]);
  ASSERT_TRUE(pod.add_process(child.pid()));
  child.release();
  pid_t started[11] = {};
  ASSERT_TRUE(read_report(report[0], started, sizeof started));
  ::close(report[0]);
  EXPECT_EQ(started[0], 3) << "pids.max 4 should leave room for the child and 3 more";

  auto destroyed = pod.destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message();
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  for (int i = 1; i <= started[0] && i <= 10; ++i)
    EXPECT_TRUE(vanishes(started[i])) << "grandchild " << started[i];
}

// A child that starts three sleepers, reports their pids, then forks and reaps in a loop.
class ForkingChild {
 public:
  ForkingChild() : child_([this] { run(); }) {}
  ~ForkingChild() {
    if (report_[0] >= 0) ::close(report_[0]);
  }
  pid_t pid() const { return child_.pid(); }
  // Lets it go and returns once the sleepers are running.
  std::vector<pid_t> release() {
    if (!piped_) return {};
    ::close(report_[1]);
    child_.release();
    pid_t sleepers[3];
    if (!read_report(report_[0], sleepers, sizeof sleepers)) return {};
    std::this_thread::sleep_for(50ms);  // let it fork for a while
    return {sleepers, sleepers + 3};
  }
  int wait() { return child_.wait(); }

 private:
  void run() {
    pid_t sleepers[3];
    for (pid_t& sleeper : sleepers) {
      sleeper = ::fork();
      if (sleeper == 0)
        for (;;) ::pause();
    }
    if (::write(report_[1], sleepers, sizeof sleepers) < 0) ::_exit(3);
    for (;;) {
      pid_t pid = ::fork();
      if (pid == 0) ::_exit(0);
      if (pid > 0) ::waitpid(pid, nullptr, 0);
    }
  }

  int report_[2] = {-1, -1};
  bool piped_ = ::pipe2(report_, O_CLOEXEC) == 0;  // before child_ forks: declared first
  HeldChild child_;
};

TEST_F(CgroupHostTest, DestroyKillsAForkingPodAndRemovesEveryDirectory) {
  const Cgroup& pod = make_pod();
  ASSERT_TRUE(pod_);
  auto app = pod.create_child("app");
  ASSERT_TRUE(app) << app.error().message();
  // A safety net for a shared machine: the child forks in a loop.
  if (any_has(pod.directories(), {"pids.max"})) {
    ASSERT_TRUE(pod.apply({.pids_max = 64}));
  }

  ForkingChild child;
  ASSERT_TRUE(app->add_process(child.pid()));
  std::vector<pid_t> sleepers = child.release();
  ASSERT_EQ(sleepers.size(), 3u);

  auto destroyed = pod.destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message();
  for (const std::string& directory : pod.directories())
    EXPECT_FALSE(sys::path_exists(directory)) << directory;
  for (const std::string& directory : app->directories())
    EXPECT_FALSE(sys::path_exists(directory)) << directory;
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  for (pid_t sleeper : sleepers) EXPECT_TRUE(vanishes(sleeper)) << "sleeper " << sleeper;

  // Idempotent: again, and on an adopted cgroup that never existed.
  auto again = pod.destroy();
  EXPECT_TRUE(again) << again.error().message();
  EXPECT_TRUE(Cgroup::adopt({pod.directories()[0] + "-never"}).destroy());
}

TEST_F(CgroupHostTest, DestroyKillsByPidWhereThereIsNoCgroupKill) {
  // On hybrid hosts cgroup.kill in the unified hierarchy would do all the work: leave it out.
  const Cgroup& pod = make_pod();
  ASSERT_TRUE(pod_);
  std::vector<std::string> without_kill;
  for (const std::string& directory : pod.directories())
    if (!sys::path_exists(directory + "/cgroup.kill")) without_kill.push_back(directory);
  if (without_kill.empty())
    GTEST_SKIP() << "every pod hierarchy has cgroup.kill: the kill-by-pid loop is not covered";
  Cgroup v1_only = Cgroup::adopt(without_kill);
  auto app = v1_only.create_child("app");
  ASSERT_TRUE(app) << app.error().message();
  if (any_has(pod.directories(), {"pids.max"})) {
    ASSERT_TRUE(pod.apply({.pids_max = 64}));
  }

  ForkingChild child;
  ASSERT_TRUE(app->add_process(child.pid()));
  std::vector<pid_t> sleepers = child.release();
  ASSERT_EQ(sleepers.size(), 3u);

  auto destroyed = v1_only.destroy();
  ASSERT_TRUE(destroyed) << destroyed.error().message();
  for (const std::string& directory : without_kill)
    EXPECT_FALSE(sys::path_exists(directory)) << directory;
  int status = child.wait();
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  for (pid_t sleeper : sleepers) EXPECT_TRUE(vanishes(sleeper)) << "sleeper " << sleeper;
}

TEST_F(CgroupHostTest, KernelAcceptsTheLimitsAsWritten) {
  const Cgroup& pod = make_pod();
  ASSERT_TRUE(pod_);
  auto applied = pod.apply({.memory_bytes = 64u << 20, .cpu_shares = 512, .cpu_millicores = 250,
                            .pids_max = 50});
  if (!applied && applied.error().message().find("no hierarchy has") != std::string::npos)
    GTEST_SKIP() << applied.error().message() << ": kernel acceptance of limits not covered";
  ASSERT_TRUE(applied) << applied.error().message();
  std::map<std::string, std::string> expected = {
      {"memory.limit_in_bytes", "67108864\n"}, {"memory.max", "67108864\n"},
      {"cpu.shares", "512\n"},                 {"cpu.weight", "20\n"},
      {"cpu.cfs_quota_us", "25000\n"},         {"cpu.max", "25000 100000\n"},
      {"pids.max", "50\n"}};
  size_t checked = 0;
  for (const std::string& directory : pod.directories()) {
    for (const auto& [file, value] : expected) {
      if (!sys::path_exists(directory + "/" + file)) continue;
      EXPECT_EQ(read_text(directory + "/" + file), value) << directory << "/" << file;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 4u);  // memory, shares or weight, quota, pids

  auto too_small = pod.apply({.cpu_millicores = 5});
  ASSERT_FALSE(too_small);
  EXPECT_NE(too_small.error().message().find("cpu limit 5m"), std::string::npos);
}

}  // namespace
}  // namespace podrt::cgroups
