// `podrt enter` inside the guest: a command started in a running app the way the supervisor
// starts the app itself (its root, user, groups, environment, capabilities, seccomp and
// cgroups: supervisor::exec_in_app), with stdin, stdout and stderr on pipes that guest-init
// relays on the session's channel (docs/guest-protocol.md, the exec frame).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

#include "common/result.h"
#include "common/supervisor/pod_plan.h"
#include "common/unique_fd.h"

namespace podrt::guest_init {

struct ExecProcess {
  pid_t pid = -1;
  UniqueFd stdin_fd;   ///< write end, for the session's stdin frames
  UniqueFd stdout_fd;  ///< read ends, non-blocking
  UniqueFd stderr_fd;
};

/// Starts what `request_json` ({"app": NAME, "argv": [...]}) asks for in that app of `plan`.
/// The child unblocks the signals PID 1 blocks and closes every fd but its stdio.
Result<ExecProcess> start_exec(const supervisor::PodPlan& plan, const std::string& request_json);

}  // namespace podrt::guest_init
