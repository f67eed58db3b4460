#include "guest-init/pod_cgroups.h"

namespace podrt::guest_init {

cgroups::CgroupLimits limits_for(const guest_protocol::GuestApp& app) {
  cgroups::CgroupLimits limits;
  limits.memory_bytes = app.memory_bytes;
  limits.cpu_shares = app.cpu_shares;
  limits.cpu_millicores = app.cpu_millicores;
  limits.pids_max = app.pids_max;
  return limits;
}

Result<std::vector<cgroups::Cgroup>> create_pod_cgroups(const cgroups::Hierarchies& hierarchies,
                                                        const char* relative,
                                                        guest_protocol::GuestConfig& config) {
  cgroups::Cgroup pod = PODRT_TRY(cgroups::Cgroup::create(hierarchies, relative));
  std::vector<cgroups::Cgroup> apps;
  for (size_t i = 0; i < config.apps.size(); ++i) {
    const guest_protocol::GuestApp& app = config.apps[i];
    cgroups::Cgroup cgroup = PODRT_TRY(pod.create_child(app.name));
    PODRT_TRY_CONTEXT(cgroup.apply(limits_for(app)), "app " + app.name);
    config.plan.apps[i].cgroup_procs_files = cgroup.procs_files();
    apps.push_back(std::move(cgroup));
  }
  return apps;
}

}  // namespace podrt::guest_init
