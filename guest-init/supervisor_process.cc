#include "guest-init/supervisor_process.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "common/supervisor/supervisor.h"

namespace podrt::guest_init {

Result<void> block_pod_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int signal : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&set, signal);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return Error::from_errno("block signals");
  return ok();
}

Result<pid_t> start_supervisor(const supervisor::PodPlan& plan, int stderr_fd,
                               const std::vector<int>& close_in_child) {
  pid_t pid = ::fork();
  if (pid < 0) return Error::from_errno("start the pod supervisor");
  if (pid > 0) return pid;
  for (int fd : close_in_child) ::close(fd);
  if (stderr_fd >= 0 && stderr_fd != STDERR_FILENO) ::dup2(stderr_fd, STDERR_FILENO);
  // run_pod asks for this too; done first so no orphan of an early app can reach PID 1.
  ::prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
  ::_exit(supervisor::run_pod(plan));
}

}  // namespace podrt::guest_init
