// What guest-init mounts for a pod, derived from the GuestConfig alone (so it can be checked
// without a VM), then done by mount_pod(): each app's image disk and a tmpfs for its overlay
// upper, the pod's volumes once each, the /etc files, and each app's rootfs as stage1-ns builds
// it (stage1-ns/rootfs: overlay, /proc, /sys, /dev, binds resolved inside the root).
#pragma once

#include <string>
#include <vector>

#include "common/guest_protocol/guest_config.h"
#include "common/result.h"
#include "stage1-ns/rootfs/app_rootfs.h"

namespace podrt::guest_init {

/// One mount(2) in the guest's own root (no image symlinks on the way: plain mkdir -p).
struct FilesystemMount {
  std::string source;  ///< a device, a 9p tag, or the type again for virtual filesystems
  std::string target;
  std::string type;
  unsigned long flags = 0;
  std::string options;
  std::vector<std::string> subdirectories;  ///< made inside once mounted (upper/, work/)
};

/// A file guest-init writes, to be bound into the apps.
struct GuestFile {
  std::string path;
  std::string content;
};

struct PodMounts {
  std::vector<FilesystemMount> filesystems;  ///< in order: disks, uppers, volumes
  std::vector<GuestFile> files;
  std::vector<stage1::rootfs::AppRootfs> apps;  ///< the same order as config.apps
};

/// 9p's msize: the largest message, in bytes. The kernel's default (8 KiB) makes big reads
/// and writes crawl; virtio's transport takes up to about 500 KiB.
inline constexpr unsigned kNinePMessageSize = 512 * 1024;

/// `terminal` is the pty bound at each app's /dev/console (--interactive), or empty.
PodMounts plan_pod_mounts(const guest_protocol::GuestConfig& config, const std::string& terminal);

/// Mounts and writes everything in `mounts`.
Result<void> mount_pod(const PodMounts& mounts);

}  // namespace podrt::guest_init
