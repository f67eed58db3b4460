// One app's root filesystem inside the pod root (rkt's /opt/stage2/<app>/rootfs): an overlay of
// the cached image render (read-only, shared by every pod) and a per-pod upper directory, so a
// pod start never copies the image; then /proc, /sys, a minimal /dev, the pod's /etc files and
// the app's volumes inside it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/result.h"

namespace podrt::stage1::rootfs {

/// A host path bound into the app at `target` (as the app sees it).
struct BindSpec {
  std::string source;
  std::string target;
  bool read_only = false;
  bool recursive = true;
  std::string volume;  ///< the pod volume it comes from, if any (stage1-kvm shares it by name)
};

struct AppRootfs {
  std::string path;    ///< mount point: <pod root>/opt/stage2/<app>/rootfs
  std::string lower;   ///< the image render (cas/tree/<id>/rootfs)
  std::string upper;   ///< overlay/<app>/upper in the pod dir
  std::string work;    ///< overlay/<app>/work in the pod dir
  bool read_only = false;
  bool harden_paths = true;         ///< mask and protect /proc and /sys paths (rkt's list)
  std::vector<BindSpec> binds;      ///< volumes, then /etc/hosts, /etc/resolv.conf, ...
  std::string terminal;             ///< a pty to show as /dev/console, or empty
  /// --private-users: the pod's user namespace (-1: none). The lower layer is then an
  /// idmapped view of `lower` through it, and /dev is owned by the pod's root, host id
  /// `root_id`; `upper` and `work` must be owned by root_id already.
  int userns_fd = -1;
  uint32_t root_id = 0;
};

/// Mounts everything above, in the current (private) mount namespace. The pod's /proc must be
/// the new pid namespace's, so call this in the pod's first process.
Result<void> mount_app_rootfs(const AppRootfs& app);

}  // namespace podrt::stage1::rootfs
