#include "stage1-kvm/kvm/vcpu_exit.h"

#include <cstdio>
#include <type_traits>

namespace podrt::vmm {

std::string VcpuExit::describe() const {
  char text[128];
  std::visit(
      [&text](const auto& exit) {
        using T = std::decay_t<decltype(exit)>;
        if constexpr (std::is_same_v<T, vcpu_exit::IoIn> || std::is_same_v<T, vcpu_exit::IoOut>) {
          std::snprintf(text, sizeof text, "port %s of %u x %u bytes at 0x%x",
                        std::is_same_v<T, vcpu_exit::IoIn> ? "read" : "write", exit.count,
                        exit.size, exit.port);
        } else if constexpr (std::is_same_v<T, vcpu_exit::MmioRead> ||
                             std::is_same_v<T, vcpu_exit::MmioWrite>) {
          std::snprintf(text, sizeof text, "MMIO %s of %zu bytes at 0x%llx",
                        std::is_same_v<T, vcpu_exit::MmioRead> ? "read" : "write",
                        exit.data.size(), static_cast<unsigned long long>(exit.address));
        } else if constexpr (std::is_same_v<T, vcpu_exit::Halt>) {
          std::snprintf(text, sizeof text, "halt");
        } else if constexpr (std::is_same_v<T, vcpu_exit::Shutdown>) {
          std::snprintf(text, sizeof text, "shutdown (triple fault)");
        } else if constexpr (std::is_same_v<T, vcpu_exit::SystemEvent>) {
          std::snprintf(text, sizeof text, "system event %u", exit.type);
        } else if constexpr (std::is_same_v<T, vcpu_exit::Interrupted>) {
          std::snprintf(text, sizeof text, "interrupted");
        } else if constexpr (std::is_same_v<T, vcpu_exit::FailEntry>) {
          std::snprintf(text, sizeof text, "entry failed on host CPU %u, hardware reason 0x%llx",
                        exit.cpu, static_cast<unsigned long long>(exit.hardware_reason));
        } else if constexpr (std::is_same_v<T, vcpu_exit::InternalError>) {
          std::snprintf(text, sizeof text, "KVM internal error, suberror %u", exit.suberror);
        } else {
          std::snprintf(text, sizeof text, "unhandled exit reason %u", exit.reason);
        }
      },
      detail_);
  return text;
}

}  // namespace podrt::vmm
