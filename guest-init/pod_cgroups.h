// The pod's cgroups in the guest (cgroup v2 only: guest-init mounts nothing else): a pod cgroup
// below the root with a child per app that carries the app's isolators, made with the same
// code and the same conversions as stage1-ns on a v2 host (common/cgroups).
#pragma once

#include <vector>

#include "common/cgroups/cgroup.h"
#include "common/guest_protocol/guest_config.h"
#include "common/result.h"

namespace podrt::guest_init {

/// The cgroup limits of an app's isolators.
cgroups::CgroupLimits limits_for(const guest_protocol::GuestApp& app);

/// Makes `<cgroup root>/<relative>` and a child per app with its limits, and points each
/// plan app's cgroup_procs_files at its child's cgroup.procs. The app cgroups, in app order.
Result<std::vector<cgroups::Cgroup>> create_pod_cgroups(const cgroups::Hierarchies& hierarchies,
                                                        const char* relative,
                                                        guest_protocol::GuestConfig& config);

}  // namespace podrt::guest_init
