// Where stage1-kvm finds the guest kernel, and `podrt info` looks for it: $PODRT_GUEST_KERNEL,
// else kernel/vmlinux beside the bin/ directory the running binary is in (the build tree's
// layout: kernel-config/ puts the cached build there).
#pragma once

#include <unistd.h>

#include <cstdlib>
#include <string>

namespace podrt {

inline std::string guest_kernel_path() {
  const char* configured = std::getenv("PODRT_GUEST_KERNEL");
  if (configured != nullptr && *configured != '\0') return configured;
  char self[4096];
  ssize_t length = ::readlink("/proc/self/exe", self, sizeof self - 1);
  std::string path = length > 0 ? std::string(self, static_cast<size_t>(length)) : "";
  return path.substr(0, path.rfind('/')) + "/../kernel/vmlinux";
}

}  // namespace podrt
