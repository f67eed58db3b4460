// The pod root: a tmpfs that becomes "/" for the pod's PID 1 (pivot_root), holding each app's
// rootfs under /opt/stage2/<app>/rootfs and stage1's own files under /podrt (status, cgroups).
// Apps are chrooted into their rootfs and never see the pod root itself.
#pragma once

#include <string>
#include <vector>

#include "common/result.h"
#include "stage1-ns/rootfs/app_rootfs.h"

namespace podrt::stage1::rootfs {

struct PodRoot {
  std::string path;                 ///< an empty directory in the pod dir (stage1/rootfs)
  std::vector<AppRootfs> apps;      ///< their paths must lie under `path`
  /// Host directories the supervisor needs, bound at `target` inside the pod root
  /// (e.g. the pod dir's status/ at /podrt/status).
  std::vector<BindSpec> binds;
};

/// In a fresh mount namespace: makes every mount private (nothing propagates back to the
/// host), mounts the tmpfs pod root, the apps' rootfs and the binds, then pivot_roots into it.
Result<void> enter_pod_root(const PodRoot& pod);

}  // namespace podrt::stage1::rootfs
