// The KVM ioctls whose argument ends in a flexible array (struct kvm_cpuid2, struct kvm_msrs),
// with the headers' C layout. Under C++, <linux/kvm.h>'s __DECLARE_FLEX_ARRAY wraps the array in
// an empty struct that takes a byte, so sizeof(kvm_cpuid2) is 12, not 8, the entries move, and
// the ioctl numbers (which encode sizeof) no longer match the kernel's: KVM answers EINVAL.
// Internal to stage1-kvm/kvm.
#pragma once

#include <linux/kvm.h>
#include <sys/ioctl.h>

#include <cstdint>

namespace podrt::vmm::kvm_abi {

/// struct kvm_cpuid2 without its entries: `nent` kvm_cpuid_entry2 follow at byte 8.
struct Cpuid2Header {
  uint32_t nent;
  uint32_t padding;
};
/// struct kvm_msrs without its entries: `nmsrs` kvm_msr_entry follow at byte 8.
struct MsrsHeader {
  uint32_t nmsrs;
  uint32_t pad;
};
static_assert(sizeof(Cpuid2Header) == 8 && sizeof(MsrsHeader) == 8);

inline constexpr unsigned long kGetSupportedCpuid = _IOWR(KVMIO, 0x05, Cpuid2Header);
inline constexpr unsigned long kGetMsrs = _IOWR(KVMIO, 0x88, MsrsHeader);
inline constexpr unsigned long kSetMsrs = _IOW(KVMIO, 0x89, MsrsHeader);
inline constexpr unsigned long kSetCpuid2 = _IOW(KVMIO, 0x90, Cpuid2Header);
inline constexpr unsigned long kGetCpuid2 = _IOWR(KVMIO, 0x91, Cpuid2Header);

}  // namespace podrt::vmm::kvm_abi
