#include "stage1-kvm/x86/boot_cpu.h"

#include <cstring>
#include <string>

#include "stage1-kvm/x86/boot_tables.h"
#include "stage1-kvm/x86/guest_cpuid.h"

namespace podrt::vmm {
namespace boot_cpu {
namespace {

constexpr uint64_t kRflagsReservedBit = 1ull << 1;  // always 1; IF and all else clear
constexpr uint16_t kFpuControlWord = 0x37f;
constexpr uint32_t kMxcsr = 0x1f80;

uint32_t lapic_register(const kvm_lapic_state& lapic, uint32_t offset) {
  uint32_t value;
  std::memcpy(&value, lapic.regs + offset, sizeof value);
  return value;
}

void set_lapic_register(kvm_lapic_state& lapic, uint32_t offset, uint32_t value) {
  std::memcpy(lapic.regs + offset, &value, sizeof value);
}

}  // namespace

kvm_sregs long_mode_sregs(const kvm_sregs& current) {
  kvm_sregs sregs = current;
  sregs.gdt.base = layout::kGdtAddress;
  sregs.gdt.limit = boot_tables::kGdtEntryCount * 8 - 1;
  sregs.idt.base = layout::kIdtAddress;
  sregs.idt.limit = boot_tables::kIdtSize - 1;

  sregs.cs = boot_tables::segment_for_selector(boot_tables::kCodeSelector);
  const kvm_segment data = boot_tables::segment_for_selector(boot_tables::kDataSelector);
  sregs.ds = data;
  sregs.es = data;
  sregs.fs = data;
  sregs.gs = data;
  sregs.ss = data;

  // CR0 from scratch: KVM's reset value has caching disabled (CD, NW).
  sregs.cr0 = kCr0ProtectionEnable | kCr0ExtensionType | kCr0NumericError | kCr0Paging;
  sregs.cr3 = layout::kPml4Address;
  sregs.cr4 = kCr4Pae;
  sregs.efer = kEferLongModeEnable | kEferLongModeActive;
  return sregs;
}

kvm_regs boot_regs(const BootEntry& entry) {
  kvm_regs regs{};
  regs.rip = entry.entry_address;
  regs.rsi = entry.boot_params_address;
  regs.rsp = layout::kBootStackPointer;
  regs.rbp = layout::kBootStackPointer;
  regs.rflags = kRflagsReservedBit;
  return regs;
}

kvm_fpu boot_fpu() {
  kvm_fpu fpu{};
  fpu.fcw = kFpuControlWord;
  fpu.mxcsr = kMxcsr;
  return fpu;
}

std::vector<kvm_msr_entry> boot_msrs() {
  auto msr = [](uint32_t index, uint64_t value) {
    kvm_msr_entry entry{};
    entry.index = index;
    entry.data = value;
    return entry;
  };
  return {
      msr(kMsrSysenterCs, 0),   msr(kMsrSysenterEsp, 0), msr(kMsrSysenterEip, 0),
      msr(kMsrStar, 0),         msr(kMsrLstar, 0),       msr(kMsrCstar, 0),
      msr(kMsrKernelGsBase, 0), msr(kMsrSyscallMask, 0), msr(kMsrTsc, 0),
      msr(kMsrMiscEnable, kMiscEnableFastStrings),
  };
}

kvm_lapic_state with_pc_lint_modes(const kvm_lapic_state& lapic) {
  kvm_lapic_state result = lapic;
  for (auto [offset, mode] : {std::pair{kApicLvtLint0, kApicDeliveryExtInt},
                              std::pair{kApicLvtLint1, kApicDeliveryNmi}}) {
    const uint32_t value = lapic_register(result, offset);
    set_lapic_register(result, offset, (value & ~kApicDeliveryModeMask) | mode);
  }
  return result;
}

}  // namespace boot_cpu

Result<void> configure_vcpu(KvmVcpu& vcpu, std::span<const kvm_cpuid_entry2> supported_cpuid,
                            uint32_t index, uint32_t vcpu_count, std::optional<BootEntry> boot) {
  const std::string what = "configure vCPU " + std::to_string(index);
  // CPUID first: KVM derives what MSRs and registers it accepts from it.
  auto cpuid = PODRT_TRY_CONTEXT(make_guest_cpuid(supported_cpuid, index, vcpu_count), what);
  PODRT_TRY_CONTEXT(vcpu.set_cpuid(cpuid), what);
  const auto msrs = boot_cpu::boot_msrs();
  PODRT_TRY_CONTEXT(vcpu.set_msrs(msrs), what);
  const kvm_lapic_state lapic = PODRT_TRY_CONTEXT(vcpu.get_lapic(), what);
  PODRT_TRY_CONTEXT(vcpu.set_lapic(boot_cpu::with_pc_lint_modes(lapic)), what);
  if (!boot) return ok();

  const kvm_sregs current = PODRT_TRY_CONTEXT(vcpu.get_sregs(), what);
  PODRT_TRY_CONTEXT(vcpu.set_sregs(boot_cpu::long_mode_sregs(current)), what);
  PODRT_TRY_CONTEXT(vcpu.set_regs(boot_cpu::boot_regs(*boot)), what);
  PODRT_TRY_CONTEXT(vcpu.set_fpu(boot_cpu::boot_fpu()), what);
  return ok();
}

Result<void> configure_vcpu(KvmVcpu& vcpu, const KvmSystem& kvm, uint32_t index,
                            uint32_t vcpu_count, std::optional<BootEntry> boot) {
  const auto supported = PODRT_TRY_CONTEXT(kvm.supported_cpuid(),
                                           "configure vCPU " + std::to_string(index));
  return configure_vcpu(vcpu, supported, index, vcpu_count, boot);
}

}  // namespace podrt::vmm
