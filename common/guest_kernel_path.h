// Where stage1-kvm finds the guest kernel, and `podrt info` looks for it: $PODRT_GUEST_KERNEL,
// else kernel/vmlinux beside the bin/ directory the running binary is in (the build tree's
// layout: kernel-config/ puts the cached build there).
#pragma once

#include <cstdlib>
#include <string>

#include "common/sys/file.h"

namespace podrt {

inline std::string guest_kernel_path() {
  const char* configured = std::getenv("PODRT_GUEST_KERNEL");
  if (configured != nullptr && *configured != '\0') return configured;
  return sys::own_directory() + "/../kernel/vmlinux";
}

}  // namespace podrt
