// The CPUID a vCPU reports, made from what KVM supports on this host plus what only the VMM
// knows: which vCPU this is (its APIC ID), how many there are (the topology), and that it runs
// under a hypervisor.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"

namespace podrt::vmm {

/// The xAPIC ID is 8 bits and leaf 1 counts logical processors in 8 bits.
inline constexpr uint32_t kMaxGuestVcpus = 255;

/// `supported` (KvmSystem::supported_cpuid()) adjusted for vCPU `index` of `vcpu_count`:
///   leaf 1      EBX[31:24] initial APIC ID, EBX[23:16] logical processors, EDX HTT when more
///               than one, ECX bit 31 the hypervisor bit;
///   leaf 4      EAX[31:26] cores per package - 1 (one thread per core);
///   0xB, 0x1F   (where the host has them) a two-level topology, one thread per core and
///               `vcpu_count` cores, EDX the x2APIC ID in every subleaf.
/// Fails if index >= vcpu_count or vcpu_count is 0 or above kMaxGuestVcpus.
Result<std::vector<kvm_cpuid_entry2>> make_guest_cpuid(std::span<const kvm_cpuid_entry2> supported,
                                                       uint32_t index, uint32_t vcpu_count);

}  // namespace podrt::vmm
