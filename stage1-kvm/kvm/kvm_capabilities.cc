#include "stage1-kvm/kvm/kvm_capabilities.h"

#include <linux/kvm.h>

#include <string>

namespace podrt::vmm {
namespace {

#define PODRT_KVM_CAPABILITY(cap, why) KvmCapability{#cap, cap, why}

constexpr KvmCapability kRequired[] = {
    PODRT_KVM_CAPABILITY(KVM_CAP_USER_MEMORY, "guest RAM mapped from VMM memory"),
    PODRT_KVM_CAPABILITY(KVM_CAP_SYNC_MMU, "guest RAM that the host may page out"),
    PODRT_KVM_CAPABILITY(KVM_CAP_IRQCHIP, "the in-kernel PIC, IOAPIC and local APICs"),
    PODRT_KVM_CAPABILITY(KVM_CAP_HLT, "idle vCPUs halting in the kernel"),
    PODRT_KVM_CAPABILITY(KVM_CAP_PIT2, "the in-kernel PIT timer"),
    PODRT_KVM_CAPABILITY(KVM_CAP_IRQFD, "device interrupts through eventfds"),
    PODRT_KVM_CAPABILITY(KVM_CAP_IOEVENTFD, "virtqueue notifications through eventfds"),
    PODRT_KVM_CAPABILITY(KVM_CAP_SET_TSS_ADDR, "the TSS that Intel VT-x needs for real mode"),
    PODRT_KVM_CAPABILITY(KVM_CAP_SET_IDENTITY_MAP_ADDR,
                         "the identity page table that Intel VT-x needs for real mode"),
    PODRT_KVM_CAPABILITY(KVM_CAP_EXT_CPUID, "the guest CPUID (KVM_SET_CPUID2)"),
    PODRT_KVM_CAPABILITY(KVM_CAP_MP_STATE, "starting secondary vCPUs with INIT/SIPI"),
    PODRT_KVM_CAPABILITY(KVM_CAP_IMMEDIATE_EXIT, "stopping a running vCPU without a race"),
};

#undef PODRT_KVM_CAPABILITY

}  // namespace

std::span<const KvmCapability> required_kvm_capabilities() { return kRequired; }

Result<void> check_required_kvm_capabilities(const std::function<int(int capability)>& supports) {
  std::string missing;
  for (const KvmCapability& capability : kRequired) {
    if (supports(capability.number) > 0) continue;
    if (!missing.empty()) missing += ", ";
    missing += std::string(capability.name) + " (needed for " + capability.needed_for + ")";
  }
  if (!missing.empty()) return Error::invalid("KVM lacks " + missing);
  return ok();
}

}  // namespace podrt::vmm
