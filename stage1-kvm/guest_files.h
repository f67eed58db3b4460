// The files every kvm pod boots from: the guest kernel (built by kernel-config/, cached outside
// the tree) and the initramfs holding guest-init, built once per guest-init binary and cached
// in the store.
#pragma once

#include <string>

#include "common/result.h"

namespace podrt::stage1_kvm {

/// $PODRT_GUEST_KERNEL, else kernel/vmlinux in the build tree beside stage1's bin/ directory.
/// The error says how to build it.
Result<std::string> find_guest_kernel();

/// podrt-guest-init beside stage1's own binary.
Result<std::string> find_guest_init();

/// DATA/cas/guest/initramfs-<key of guest-init's file>.cpio (newc: /init and the directories
/// it mounts on), made on first use under a temporary name and renamed into place.
Result<std::string> ensure_initramfs(const std::string& data_dir, const std::string& guest_init);

/// Writes the initramfs for `guest_init` to `path` (exposed for tests).
Result<void> write_initramfs(const std::string& path, const std::string& guest_init);

}  // namespace podrt::stage1_kvm
