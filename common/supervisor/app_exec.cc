// exec_in_app: turns a freshly forked child of the supervisor into an app (or an app's
// event handler). The order of the steps matters:
//   1. cgroups, oom_score_adj, rlimits and stdio, while the supervisor's view (/proc,
//      /dev/null, the cgroup files, the terminal fd) is still reachable;
//   2. chroot, then user and group names resolved from the image's own /etc files;
//   3. groups and gid, bounding-set drop (needs CAP_SETPCAP, so before setuid), uid, then the
//      final capability sets (setuid alone would leave a non-root app its inheritable set);
//   4. chdir into the working directory as the app's user, so permissions are the app's;
//   5. no_new_privs, close every other fd, then the seccomp filter as the very last step, so
//      that a strict filter never breaks the setup calls above. Loading a filter without
//      CAP_SYS_ADMIN needs no_new_privs, so it is forced then (rkt forced it for every
//      non-root app with a filter; a root app without CAP_SYS_ADMIN needs it just the same).
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <linux/capability.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "common/supervisor/capabilities.h"
#include "common/supervisor/process_limits.h"
#include "common/supervisor/seccomp_filter.h"
#include "common/supervisor/supervisor.h"
#include "common/supervisor/user_lookup.h"
#include "common/sys/file.h"

namespace podrt::supervisor {
namespace {

constexpr const char* kDefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

[[noreturn]] void fail(const AppSpec& app, const std::string& message, int code) {
  std::string line = "podrt: app " + app.name + ": " + message + "\n";
  ssize_t ignored = ::write(STDERR_FILENO, line.data(), line.size());
  (void)ignored;
  ::_exit(code);
}

// The supervisor blocks the signals it reads from a signalfd; an app must start clean.
void reset_signals() {
  for (int signal = 1; signal < NSIG; ++signal) ::signal(signal, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

Result<void> join_cgroups(const std::vector<std::string>& procs_files) {
  for (const std::string& path : procs_files) {
    UniqueFd fd = PODRT_TRY_CONTEXT(sys::open_file(path, O_WRONLY), "join cgroup");
    // "0" is the writing process itself.
    if (::write(fd.get(), "0", 1) != 1) return Error::from_errno("join cgroup " + path);
  }
  return ok();
}

// The app's own stdout and stderr, when the plan gives it some (dup2 keeps them across exec).
Result<void> redirect_output(const AppSpec& app) {
  if (app.stdout_fd >= 0 && ::dup2(app.stdout_fd, STDOUT_FILENO) < 0)
    return Error::from_errno("redirect stdout");
  if (app.stderr_fd >= 0 && ::dup2(app.stderr_fd, STDERR_FILENO) < 0)
    return Error::from_errno("redirect stderr");
  return ok();
}

Result<void> set_up_stdio(int terminal_fd) {
  if (terminal_fd >= 0) {
    if (::setsid() < 0) return Error::from_errno("start a session for the terminal");
    // Taking a terminal that is another session's controlling one needs force (and root).
    if (::ioctl(terminal_fd, TIOCSCTTY, 0) != 0 && ::ioctl(terminal_fd, TIOCSCTTY, 1) != 0)
      return Error::from_errno("make fd " + std::to_string(terminal_fd) +
                               " the controlling terminal");
    for (int target = 0; target <= 2; ++target)
      if (::dup2(terminal_fd, target) < 0) return Error::from_errno("attach the terminal");
    return ok();
  }
  UniqueFd null = PODRT_TRY(sys::open_file("/dev/null", O_RDONLY));
  if (::dup2(null.get(), STDIN_FILENO) < 0) return Error::from_errno("redirect stdin");
  return ok();
}

std::string environment_path(const std::vector<std::string>& environment) {
  for (const std::string& entry : environment)
    if (entry.compare(0, 5, "PATH=") == 0) return entry.substr(5);
  return kDefaultPath;
}

// What execve will try, in order: the path itself, or each PATH entry + "/" + name.
std::vector<std::string> executable_candidates(const std::string& program,
                                               const std::vector<std::string>& environment) {
  if (program.find('/') != std::string::npos) return {program};
  std::vector<std::string> candidates;
  std::string path = environment_path(environment);
  size_t start = 0;
  for (;;) {
    size_t end = path.find(':', start);
    std::string directory = path.substr(start, end == std::string::npos ? end : end - start);
    candidates.push_back((directory.empty() ? "." : directory) + "/" + program);
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return candidates;
}

std::vector<char*> c_strings(const std::vector<std::string>& strings) {
  std::vector<char*> pointers;
  pointers.reserve(strings.size() + 1);
  for (const std::string& s : strings) pointers.push_back(const_cast<char*>(s.c_str()));
  pointers.push_back(nullptr);
  return pointers;
}

Result<std::vector<int>> capability_numbers(const std::vector<std::string>& names) {
  std::vector<int> numbers;
  for (const std::string& name : names) numbers.push_back(PODRT_TRY(capability_from_name(name)));
  return numbers;
}

// Everything up to (not including) the seccomp filter and execve.
Result<void> set_up(const AppSpec& app) {
  std::vector<int> keep = PODRT_TRY(capability_numbers(app.capabilities));
  PODRT_TRY(join_cgroups(app.cgroup_procs_files));
  if (app.oom_score_adj) PODRT_TRY(set_oom_score_adj(*app.oom_score_adj));
  PODRT_TRY(apply_rlimits(app.rlimits));
  if (!app.inherit_stdin) PODRT_TRY(set_up_stdio(app.terminal_fd));
  if (app.terminal_fd < 0) PODRT_TRY(redirect_output(app));

  if (::chroot(app.root.c_str()) != 0) return Error::from_errno("chroot " + app.root);
  if (::chdir("/") != 0) return Error::from_errno("chdir / in " + app.root);
  uid_t uid = PODRT_TRY(resolve_uid(app.user));
  gid_t gid = PODRT_TRY(resolve_gid(app.group));

  std::vector<gid_t> groups(app.supplementary_gids.begin(), app.supplementary_gids.end());
  if (::setgroups(groups.size(), groups.data()) != 0)
    return Error::from_errno("set supplementary groups");
  if (::setresgid(gid, gid, gid) != 0) return Error::from_errno("set gid " + std::to_string(gid));
  PODRT_TRY(drop_bounding_set(keep));
  if (::setresuid(uid, uid, uid) != 0) return Error::from_errno("set uid " + std::to_string(uid));
  PODRT_TRY(set_process_capabilities(keep, uid == 0));

  if (::chdir(app.working_directory.c_str()) != 0)
    return Error::from_errno("chdir " + app.working_directory);
  return ok();
}

}  // namespace

void exec_in_app(const AppSpec& app, const std::vector<std::string>& argv) {
  reset_signals();
  if (argv.empty() || argv[0].empty()) fail(app, "nothing to execute", kExitPodrtFailure);
  // Built first: an unknown syscall name fails before anything changed.
  std::optional<SeccompFilter> filter;
  if (app.seccomp) {
    auto built = app.seccomp_bpf.empty() ? SeccompFilter::build(*app.seccomp)
                                         : SeccompFilter::from_bpf(app.seccomp_bpf);
    if (!built) fail(app, built.error().message(), kExitPodrtFailure);
    filter.emplace(std::move(*built));
  }
  if (auto done = set_up(app); !done) fail(app, done.error().message(), kExitPodrtFailure);

  bool needs_nnp = filter && filter->active() && !has_effective_capability(CAP_SYS_ADMIN);
  if ((app.no_new_privileges || needs_nnp) && ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
    fail(app, std::string("set no_new_privs: ") + std::strerror(errno), kExitPodrtFailure);

  // Everything execve needs is prepared before the filter is in place.
  std::vector<std::string> candidates = executable_candidates(argv[0], app.environment);
  std::vector<char*> args = c_strings(argv);
  std::vector<char*> env = c_strings(app.environment);
  if (::close_range(3, ~0U, 0) != 0)
    fail(app, std::string("close inherited fds: ") + std::strerror(errno), kExitPodrtFailure);
  if (filter) {
    if (auto loaded = filter->load(); !loaded)
      fail(app, loaded.error().message(), kExitPodrtFailure);
  }

  // execvpe's rules: keep searching past missing entries; EACCES wins if nothing ran.
  int error = ENOENT;
  bool denied = false;
  for (const std::string& candidate : candidates) {
    ::execve(candidate.c_str(), args.data(), env.data());
    error = errno;
    if (error == EACCES) denied = true;
    if (error != ENOENT && error != ENOTDIR && error != EACCES) break;
  }
  if (denied && (error == ENOENT || error == ENOTDIR)) error = EACCES;
  fail(app, "exec " + argv[0] + ": " + std::strerror(error),
       error == ENOENT || error == ENOTDIR ? kExitCommandNotFound : kExitCannotExecute);
}

}  // namespace podrt::supervisor
