// The pod supervisor runs in a child of guest-init, not in PID 1 itself: PID 1 stays free to
// relay the control channel while run_pod blocks in its own loop, and a supervisor that
// crashes ends the pod, not the kernel.
#pragma once

#include <sys/types.h>

#include <vector>

#include "common/result.h"
#include "common/supervisor/pod_plan.h"

namespace podrt::guest_init {

/// Forks the supervisor. The child closes `close_in_child` (guest-init's own fds), becomes a
/// child subreaper (the apps' orphans are its to reap and kill), puts its stderr on
/// `stderr_fd` and exits with run_pod(plan). Call it with the stop signals and SIGCHLD
/// blocked: the child inherits the mask, so a signal sent before run_pod made its signalfd
/// waits for it instead of killing it.
Result<pid_t> start_supervisor(const supervisor::PodPlan& plan, int stderr_fd,
                               const std::vector<int>& close_in_child);

/// Blocks SIGCHLD and the stop signals (SIGTERM, SIGINT, SIGHUP, SIGQUIT) in the caller.
Result<void> block_pod_signals();

}  // namespace podrt::guest_init
