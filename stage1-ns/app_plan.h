// From an app of the pod manifest to what runs it: the supervisor's AppSpec (exec, env, user,
// capabilities, seccomp, ...), the cgroup limits of its isolators, and its volume binds.
// Shared with stage1-kvm later: nothing here depends on how the pod is isolated.
#pragma once

#include <string>
#include <vector>

#include "common/cgroups/cgroup.h"
#include "common/supervisor/pod_plan.h"
#include "stage1-ns/loaded_pod.h"
#include "stage1-ns/rootfs/app_rootfs.h"
#include "stage1-ns/run_options.h"

namespace podrt::stage1 {

/// The appc default PATH (ace.md).
inline constexpr const char* kDefaultPath =
    "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

struct AppPlan {
  supervisor::AppSpec spec;
  cgroups::CgroupLimits limits;
  std::vector<rootfs::BindSpec> volume_binds;
};

/// Builds one app's plan. `root` is where the supervisor will find its rootfs;
/// `metadata_url` is empty when the pod has no metadata service.
Result<AppPlan> plan_app(const LoadedPod& pod, const LoadedApp& app, const RunOptions& options,
                         const std::string& root, const std::string& metadata_url);

}  // namespace podrt::stage1
