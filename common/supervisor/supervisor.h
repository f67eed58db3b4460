// The pod supervisor: PID 1 of a pod, shared by the stage1-ns pod init and guest-init.
// It starts the apps, reaps every child (orphans included), forwards signals, stops the
// other apps when one fails, runs the appc event handlers and records exit codes.
#pragma once

#include <string>
#include <vector>

#include "common/supervisor/pod_plan.h"

namespace podrt::supervisor {

/// Exit codes shared by stage0, both stage1s and the supervisor (rkt's, see design.md).
inline constexpr int kExitCommandNotFound = 127;
inline constexpr int kExitCannotExecute = 126;
inline constexpr int kExitPodrtFailure = 254;

/// Runs every app of the plan to completion and returns the pod's exit code: a single-app
/// pod's code is the app's; a multi-app pod's is the first non-zero code (the other apps are
/// then stopped). An app killed by signal N exits 128+N. Writes status_dir/<app> for each app.
int run_pod(const PodPlan& plan);

/// In a freshly forked child: joins the app's cgroups, chroots into app.root, sets rlimits,
/// oom_score_adj, groups, user, capabilities, no_new_privs and seccomp, changes to the working
/// directory and execs `argv` with the app's environment. Never returns: on failure it prints
/// one line on stderr and exits 127 (not found), 126 (not executable) or 254 (setup failed).
[[noreturn]] void exec_in_app(const AppSpec& app, const std::vector<std::string>& argv);

}  // namespace podrt::supervisor
