// run_pod: the supervisor's event loop. Every app moves through pre-start handlers, the app
// itself and post-stop handlers, one process at a time; apps advance independently. One
// signalfd delivers SIGCHLD (reap) and the stop signals (forward), so nothing runs in a
// signal handler, and a PID 1 still receives them (the kernel drops only unhandled, unblocked
// signals to a namespace's init).
#include <dirent.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>

#include "common/log.h"
#include "common/scope_exit.h"
#include "common/supervisor/supervisor.h"
#include "common/sys/file.h"

namespace podrt::supervisor {
namespace {

using Clock = std::chrono::steady_clock;

constexpr int kStopSignals[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT};

int exit_code_of(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return kExitPodrtFailure;
}

struct AppRun {
  enum class Phase { PreStart, Running, PostStop, Done };
  const AppSpec* spec = nullptr;
  Phase phase = Phase::PreStart;
  size_t handler = 0;  // next handler of the current phase
  pid_t pid = -1;      // this app's live process (handler or app), or -1
};

class Pod {
 public:
  explicit Pod(const PodPlan& plan) : plan_(plan) {
    for (const AppSpec& spec : plan.apps) apps_.push_back(AppRun{.spec = &spec});
  }

  int run(int signal_fd) {
    for (AppRun& app : apps_) advance(app);
    while (!all_done()) {
      int timeout_ms = -1;
      if (kill_at_) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(*kill_at_ - Clock::now());
        timeout_ms = static_cast<int>(std::max<int64_t>(0, left.count()));
      }
      struct pollfd event = {signal_fd, POLLIN, 0};
      int ready = ::poll(&event, 1, timeout_ms);
      if (ready < 0 && errno != EINTR) {
        log::error(std::string("wait for events: ") + std::strerror(errno));
        break;
      }
      if (ready > 0) read_signals(signal_fd);
      if (kill_at_ && Clock::now() >= *kill_at_) {
        kill_at_.reset();
        signal_apps(SIGKILL);
      }
    }
    if (apps_.size() == 1) return first_code_.value_or(0);
    return first_failure_.value_or(0);
  }

 private:
  bool all_done() const {
    for (const AppRun& app : apps_)
      if (app.phase != AppRun::Phase::Done) return false;
    return true;
  }

  void read_signals(int signal_fd) {
    struct signalfd_siginfo info;
    while (::read(signal_fd, &info, sizeof info) == static_cast<ssize_t>(sizeof info)) {
      int signal = static_cast<int>(info.ssi_signo);
      if (signal == SIGCHLD) {
        reap();
      } else {
        stop(signal);
      }
    }
  }

  // SIGCHLDs coalesce: collect every exited child, orphans included (they have no AppRun).
  void reap() {
    int status = 0;
    pid_t pid;
    while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
      for (AppRun& app : apps_) {
        if (app.pid != pid) continue;
        app.pid = -1;
        exited(app, exit_code_of(status));
        break;
      }
    }
  }

  // Starts the app's next process; marks it done when there is none.
  void advance(AppRun& app) {
    const AppSpec& spec = *app.spec;
    while (app.pid < 0 && app.phase != AppRun::Phase::Done) {
      if (app.phase == AppRun::Phase::PreStart) {
        if (stop_signal_) {  // a stop came before the app could start: it never will
          app_ended(app, 128 + *stop_signal_);
          app.phase = AppRun::Phase::Done;
        } else if (app.handler < spec.pre_start.size()) {
          spawn(app, spec.pre_start[app.handler]);
        } else {
          app.phase = AppRun::Phase::Running;
          spawn(app, spec.exec);
        }
      } else if (app.phase == AppRun::Phase::PostStop) {
        if (app.handler < spec.post_stop.size()) {
          spawn(app, spec.post_stop[app.handler]);
        } else {
          app.phase = AppRun::Phase::Done;
        }
      }
    }
  }

  void spawn(AppRun& app, const std::vector<std::string>& argv) {
    pid_t pid = ::fork();
    if (pid == 0) exec_in_app(*app.spec, argv);
    if (pid < 0) {
      log::error("app " + app.spec->name + ": fork: " + std::strerror(errno));
      exited(app, kExitPodrtFailure);
      return;
    }
    app.pid = pid;
  }

  void exited(AppRun& app, int code) {
    switch (app.phase) {
      case AppRun::Phase::PreStart:
        if (code != 0) {
          app_ended(app, code);
          app.phase = AppRun::Phase::Done;
          return;
        }
        ++app.handler;
        break;
      case AppRun::Phase::Running:
        app_ended(app, code);
        app.phase = AppRun::Phase::PostStop;
        app.handler = 0;
        break;
      case AppRun::Phase::PostStop:
        if (code != 0)
          log::warning("app " + app.spec->name + ": post-stop handler exited " +
                       std::to_string(code));
        ++app.handler;
        break;
      case AppRun::Phase::Done:
        return;
    }
    advance(app);
  }

  void app_ended(AppRun& app, int code) {
    if (!first_code_) first_code_ = code;
    if (code != 0 && !first_failure_) first_failure_ = code;
    auto written = sys::write_file_atomic(plan_.status_dir + "/" + app.spec->name,
                                          std::to_string(code) + "\n", 0644, sys::Sync::No);
    if (!written)
      log::warning("app " + app.spec->name + ": record exit code: " + written.error().message());
    // One failed app takes the pod down; an app that finished well leaves the others running.
    if (code != 0 && apps_.size() > 1) stop(SIGTERM);
  }

  // Forwards `signal` to every live app process; the first stop also arms the SIGKILL timer.
  void stop(int signal) {
    signal_apps(signal);
    if (!stop_signal_) {
      stop_signal_ = signal;
      kill_at_ = Clock::now() + std::chrono::seconds(plan_.stop_timeout_seconds);
    }
  }

  void signal_apps(int signal) {
    for (const AppRun& app : apps_)
      if (app.pid > 0) ::kill(app.pid, signal);
  }

  const PodPlan& plan_;
  std::vector<AppRun> apps_;
  std::optional<int> stop_signal_;
  std::optional<Clock::time_point> kill_at_;
  std::optional<int> first_code_;
  std::optional<int> first_failure_;
};

// Our children, found through /proc: orphans reparented to this subreaper.
std::vector<pid_t> list_children() {
  std::vector<pid_t> children;
  DIR* proc = ::opendir("/proc");
  if (proc == nullptr) return children;
  ScopeExit close_proc([proc] { ::closedir(proc); });
  const pid_t self = ::getpid();
  while (struct dirent* entry = ::readdir(proc)) {
    char* end = nullptr;
    long pid = std::strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0') continue;
    auto stat = sys::read_file(std::string("/proc/") + entry->d_name + "/stat");
    if (!stat) continue;
    // "pid (comm) state ppid ...": comm may hold anything, so parse after the last ')'.
    size_t paren = stat->rfind(')');
    if (paren == std::string::npos || paren + 4 >= stat->size()) continue;
    long ppid = std::strtol(stat->c_str() + paren + 4, nullptr, 10);
    if (ppid == self) children.push_back(static_cast<pid_t>(pid));
  }
  return children;
}

// The pod ends with its apps: whatever they left behind is killed and reaped.
void kill_leftovers() {
  for (int attempt = 0; attempt < 5000; ++attempt) {
    if (::getpid() == 1) {
      ::kill(-1, SIGKILL);  // everything in our pid namespace (or VM) but us
    } else {
      for (pid_t child : list_children()) ::kill(child, SIGKILL);
    }
    pid_t pid;
    while ((pid = ::waitpid(-1, nullptr, WNOHANG)) > 0) {
    }
    if (pid < 0 && errno == ECHILD) return;
    ::usleep(1000);
  }
  log::warning("processes left behind by the apps did not die");
}

}  // namespace

int run_pod(const PodPlan& plan) {
  if (plan.apps.empty()) {
    log::error("pod plan has no apps");
    return kExitPodrtFailure;
  }
  // Orphans of the apps are reparented to us even when we are not PID 1 (tests, guest-init).
  if (::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
    log::warning(std::string("become a child subreaper: ") + std::strerror(errno));
  // An inherited SIG_IGN for SIGCHLD would make the kernel reap our children behind our back.
  struct sigaction previous_chld;
  struct sigaction default_action = {};
  default_action.sa_handler = SIG_DFL;
  ::sigaction(SIGCHLD, &default_action, &previous_chld);

  sigset_t handled;
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  for (int signal : kStopSignals) sigaddset(&handled, signal);
  sigset_t previous_mask;
  ::sigprocmask(SIG_BLOCK, &handled, &previous_mask);
  ScopeExit restore([&] {
    ::sigprocmask(SIG_SETMASK, &previous_mask, nullptr);
    ::sigaction(SIGCHLD, &previous_chld, nullptr);
  });
  UniqueFd signal_fd(::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!signal_fd) {
    log::error(std::string("create a signalfd: ") + std::strerror(errno));
    return kExitPodrtFailure;
  }
  int code = Pod(plan).run(signal_fd.get());
  kill_leftovers();
  return code;
}

}  // namespace podrt::supervisor
