// TestPod: a throw-away pod for the supervisor's behaviour tests. A temp dir holds a tiny
// rootfs (static busybox, /etc/passwd, /etc/group, /proc mount point) and a status dir;
// run() runs run_pod in a forked child with its own mount namespace, so the /proc mounted
// into the rootfs vanishes with it.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "common/supervisor/supervisor.h"
#include "common/sys/file.h"

namespace podrt::supervisor::testing {

inline void write_text(const std::string& path, const std::string& text, mode_t mode = 0644) {
  ASSERT_TRUE(sys::write_file_atomic(path, text, mode));
}

inline std::string read_text(const std::string& path) {
  auto text = sys::read_file(path);
  return text ? *text : "<missing " + path + ">";
}

class TestPod {
 public:
  TestPod() {
    char pattern[] = "/tmp/podrt-supervisor-test-XXXXXX";
    dir_ = ::mkdtemp(pattern);
    root_ = dir_ + "/root";
    status_ = dir_ + "/status";
    for (const char* sub : {"/bin", "/dev", "/etc", "/proc", "/work", "/status"})
      EXPECT_TRUE(sys::make_directories((sub == std::string("/status") ? dir_ : root_) + sub));
    ::mkdir((root_ + "/tmp").c_str(), 01777);
    ::chmod((root_ + "/tmp").c_str(), 01777);
    auto busybox = sys::read_file("/bin/busybox");
    EXPECT_TRUE(busybox) << "busybox-static is needed at /bin/busybox";
    if (busybox) write_text(root_ + "/bin/busybox", *busybox, 0755);
    ::symlink("busybox", (root_ + "/bin/sh").c_str());
    // busybox sh sends a background job's stdin to /dev/null and fails the job without it.
    EXPECT_EQ(::mknod((root_ + "/dev/null").c_str(), S_IFCHR | 0666, makedev(1, 3)), 0);
    write_text(root_ + "/etc/passwd",
               "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/work:/bin/sh\n");
    write_text(root_ + "/etc/group", "root:x:0:\napp:x:1000:\nappgroup:x:1001:\n");
    plan.status_dir = status_;
    plan.stop_timeout_seconds = 5;
  }
  ~TestPod() { (void)sys::remove_tree(dir_); }
  TestPod(const TestPod&) = delete;
  TestPod& operator=(const TestPod&) = delete;

  const std::string& root() const { return root_; }
  std::string status(const std::string& app) const { return read_text(status_ + "/" + app); }
  std::string file(const std::string& path_in_root) const {
    return read_text(root_ + path_in_root);
  }

  /// An app that runs `script` with busybox sh.
  AppSpec& add_app(const std::string& name, const std::string& script) {
    AppSpec app;
    app.name = name;
    app.root = root_;
    app.exec = {"/bin/busybox", "sh", "-c", script};
    app.environment = {"PATH=/bin"};
    plan.apps.push_back(app);
    return plan.apps.back();
  }

  /// Runs the pod in a child; `while_running(child_pid)` runs meanwhile. Returns the pod's
  /// exit code, or -1 if it did not end within 30 seconds (the child is then killed).
  int run(const std::function<void(pid_t)>& while_running = {}) {
    std::string stderr_path = dir_ + "/stderr";
    pid_t child = ::fork();
    if (child == 0) {
      int err = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
      if (err >= 0) ::dup2(err, STDERR_FILENO);
      if (::unshare(CLONE_NEWNS) != 0 ||
          ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
          ::mount("proc", (root_ + "/proc").c_str(), "proc", 0, nullptr) != 0)
        ::_exit(200);
      ::_exit(run_pod(plan));
    }
    if (while_running) while_running(child);
    int status = 0;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (::waitpid(child, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(child, SIGKILL);
        ::waitpid(child, &status, 0);
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    stderr_ = read_text(stderr_path);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1000 + WTERMSIG(status);
  }

  /// What the supervisor and its apps wrote on stderr during the last run().
  const std::string& stderr_text() const { return stderr_; }

  /// Waits up to 10 s for a file the app creates to say it is running.
  bool wait_for_file(const std::string& path_in_root) const {
    for (int i = 0; i < 2000; ++i) {
      if (sys::path_exists(root_ + path_in_root)) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
  }

  PodPlan plan;

 private:
  std::string dir_;
  std::string root_;
  std::string status_;
  std::string stderr_;
};

}  // namespace podrt::supervisor::testing
