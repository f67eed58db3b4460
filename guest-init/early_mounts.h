// The kernel hands PID 1 an initramfs and nothing else: guest-init mounts the API filesystems
// itself before it can open the control channel (/dev/hvc0 lives on devtmpfs).
#pragma once

#include "common/result.h"

namespace podrt::guest_init {

/// /proc, /sys, devtmpfs on /dev, /dev/pts (a private devpts instance), /dev/shm and cgroup2 on
/// /sys/fs/cgroup.
Result<void> mount_early_filesystems();

}  // namespace podrt::guest_init
