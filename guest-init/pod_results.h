// The end of a pod as the host hears it: an app-exited frame per app ({"app", "code", "oom"}),
// then pod-exited with the supervisor's code, the last frame before the VM ends.
#pragma once

#include <string>
#include <vector>

#include "common/cgroups/cgroup.h"
#include "common/result.h"
#include "common/supervisor/pod_plan.h"
#include "guest-init/control_channel.h"

namespace podrt::guest_init {

struct AppResult {
  std::string app;
  int code = 0;
  bool oom = false;
};

/// Each app's code from status_dir/<app>, or `pod_code` when the supervisor recorded none (it
/// was killed, or failed before the app ended); oom when the app's cgroup counts an OOM kill.
/// `app_cgroups` is empty or one per app.
std::vector<AppResult> collect_results(const supervisor::PodPlan& plan,
                                       const std::vector<cgroups::Cgroup>& app_cgroups,
                                       int pod_code);

/// The app-exited payload: {"app":NAME,"code":N,"oom":BOOL}.
std::string app_exited_payload(const AppResult& result);

/// Sends app-exited for each result, then pod-exited `pod_code`, and waits until written.
Result<void> report_pod_end(ControlChannel& channel, const std::vector<AppResult>& results,
                            int pod_code);

}  // namespace podrt::guest_init
