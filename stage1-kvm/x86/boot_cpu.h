// The x86_64 boot-CPU state: what each vCPU holds before the guest's first instruction. Every
// vCPU gets its CPUID (guest_cpuid.h), the boot MSRs and its local APIC's LINT0 = ExtINT (the
// PIC's output) and LINT1 = NMI, as on a PC; vCPU 0 alone also gets a BootEntry: 64-bit long
// mode on the boot_tables.h GDT and page tables, as Linux's 64-bit boot protocol wants. The
// others wait, in the in-kernel irqchip, for the INIT/SIPI the guest sends them.
//
// The pure builders are public so that tests can check the state without KVM.
#pragma once

#include <linux/kvm.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "common/result.h"
#include "stage1-kvm/kvm/kvm_system.h"
#include "stage1-kvm/kvm/kvm_vcpu.h"
#include "stage1-kvm/x86/boot_tables.h"
#include "stage1-kvm/x86/layout.h"

namespace podrt::vmm {

struct BootEntry {
  /// The 64-bit entry point (RIP).
  uint64_t entry_address = 0;
  /// RSI: struct boot_params for Linux.
  uint64_t boot_params_address = layout::kZeroPageAddress;
};

namespace boot_cpu {

// Control-register and EFER bits.
inline constexpr uint64_t kCr0ProtectionEnable = 1ull << 0;
inline constexpr uint64_t kCr0ExtensionType = 1ull << 4;
inline constexpr uint64_t kCr0NumericError = 1ull << 5;
inline constexpr uint64_t kCr0Paging = 1ull << 31;
inline constexpr uint64_t kCr4Pae = 1ull << 5;
inline constexpr uint64_t kEferLongModeEnable = 1ull << 8;
inline constexpr uint64_t kEferLongModeActive = 1ull << 10;

// MSRs the boot state sets.
inline constexpr uint32_t kMsrTsc = 0x10;
inline constexpr uint32_t kMsrSysenterCs = 0x174;
inline constexpr uint32_t kMsrSysenterEsp = 0x175;
inline constexpr uint32_t kMsrSysenterEip = 0x176;
inline constexpr uint32_t kMsrMiscEnable = 0x1a0;
inline constexpr uint64_t kMiscEnableFastStrings = 1ull << 0;
inline constexpr uint32_t kMsrStar = 0xc0000081;
inline constexpr uint32_t kMsrLstar = 0xc0000082;
inline constexpr uint32_t kMsrCstar = 0xc0000083;
inline constexpr uint32_t kMsrSyscallMask = 0xc0000084;
inline constexpr uint32_t kMsrKernelGsBase = 0xc0000102;

// Local APIC registers (offsets into kvm_lapic_state::regs) and LVT delivery modes.
inline constexpr uint32_t kApicLvtLint0 = 0x350;
inline constexpr uint32_t kApicLvtLint1 = 0x360;
inline constexpr uint32_t kApicDeliveryModeMask = 0x700;
inline constexpr uint32_t kApicDeliveryNmi = 0x400;
inline constexpr uint32_t kApicDeliveryExtInt = 0x700;

/// `current` (KVM_GET_SREGS, for the fields KVM owns: TR, LDT, APIC base) in 64-bit long mode:
/// paging on with CR3 = the boot PML4, CS/DS/ES/FS/GS/SS from the boot GDT, GDTR/IDTR on the
/// boot tables.
kvm_sregs long_mode_sregs(const kvm_sregs& current);
/// RIP = entry, RSI = boot params, RSP = RBP = the boot stack, RFLAGS = 2 (interrupts off).
kvm_regs boot_regs(const BootEntry& entry);
/// x87 control word 0x37f and MXCSR 0x1f80, their reset values.
kvm_fpu boot_fpu();
/// SYSENTER/SYSCALL MSRs cleared, TSC = 0, MISC_ENABLE with fast strings.
std::vector<kvm_msr_entry> boot_msrs();
/// `lapic` with LINT0 delivering ExtINT and LINT1 NMI (other LVT bits, the mask included, kept).
kvm_lapic_state with_pc_lint_modes(const kvm_lapic_state& lapic);

}  // namespace boot_cpu

/// Sets up vCPU `index` of `vcpu_count`, before its first run: CPUID from `supported_cpuid`,
/// MSRs, LAPIC LINT modes (the VM needs its in-kernel irqchip), and with `boot` the long-mode
/// registers. The boot tables must be in guest memory (boot_tables::write_boot_tables).
Result<void> configure_vcpu(KvmVcpu& vcpu, std::span<const kvm_cpuid_entry2> supported_cpuid,
                            uint32_t index, uint32_t vcpu_count, std::optional<BootEntry> boot);
/// The same with the CPUID KVM supports asked of `kvm` (one ioctl; callers configuring many
/// vCPUs may fetch it once and use the overload above).
Result<void> configure_vcpu(KvmVcpu& vcpu, const KvmSystem& kvm, uint32_t index,
                            uint32_t vcpu_count, std::optional<BootEntry> boot);

}  // namespace podrt::vmm
