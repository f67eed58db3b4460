// Idmapped mounts (mount_setattr(2), MOUNT_ATTR_IDMAP): a view of a directory whose files'
// owners are shifted through a user namespace, without touching the files. --private-users
// uses one for each app's image render, so the shared render (owned by host root) appears owned
// by the pod's root, and overlayfs (which accepts idmapped lower layers since Linux 5.19)
// copies files up to the pod's upper dir as the pod's root's host id.
#pragma once

#include <string>

#include "common/result.h"

namespace podrt::stage1::rootfs {

/// Attaches a read-only, idmapped clone of `source` (a directory, not recursive) at `target`.
/// Needs real root: the kernel only lets the superblock's owner (the host) idmap a mount.
Result<void> mount_idmapped(const std::string& source, const std::string& target, int userns_fd);

}  // namespace podrt::stage1::rootfs
