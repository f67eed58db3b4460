// The KVM capabilities the builtin VMM cannot run without, each with the reason it is needed, so
// that a host that lacks some gets one line naming all of them instead of a failed ioctl later.
#pragma once

#include <functional>
#include <span>

#include "common/result.h"

namespace podrt::vmm {

struct KvmCapability {
  const char* name;        ///< "KVM_CAP_IRQFD"
  int number;              ///< its KVM_CAP_ value, for KVM_CHECK_EXTENSION
  const char* needed_for;  ///< "device interrupts through eventfds"
};

/// Every capability the VMM requires (what it does not strictly need is not listed).
std::span<const KvmCapability> required_kvm_capabilities();

/// Asks `supports` (KVM_CHECK_EXTENSION: > 0 means present) about every required capability.
/// Fails with "KVM lacks KVM_CAP_A (needed for X), KVM_CAP_B (needed for Y)", all missing ones at
/// once.
Result<void> check_required_kvm_capabilities(const std::function<int(int capability)>& supports);

}  // namespace podrt::vmm
