#include "stage1-kvm/x86/boot_cpu.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>

namespace podrt::vmm {
namespace {

using namespace boot_cpu;

TEST(BootCpuState, LongModeSregsUseTheBootTables) {
  kvm_sregs current{};
  current.tr.type = 0xb;
  current.tr.present = 1;
  current.apic_base = 0xfee00900;
  current.cr0 = 0x60000010;  // KVM's reset value, caches off
  const kvm_sregs sregs = long_mode_sregs(current);
  EXPECT_EQ(sregs.cr0, 0x80000031u) << "PE, ET, NE, PG; caches on";
  EXPECT_EQ(sregs.cr3, layout::kPml4Address);
  EXPECT_EQ(sregs.cr4, kCr4Pae);
  EXPECT_EQ(sregs.efer, kEferLongModeEnable | kEferLongModeActive);
  EXPECT_EQ(sregs.gdt.base, layout::kGdtAddress);
  EXPECT_EQ(sregs.gdt.limit, 31);
  EXPECT_EQ(sregs.idt.base, layout::kIdtAddress);
  EXPECT_EQ(sregs.idt.limit, 7);
  EXPECT_EQ(sregs.cs.selector, boot_tables::kCodeSelector);
  EXPECT_EQ(sregs.cs.l, 1);
  for (const kvm_segment* data : {&sregs.ds, &sregs.es, &sregs.fs, &sregs.gs, &sregs.ss}) {
    EXPECT_EQ(data->selector, boot_tables::kDataSelector);
    EXPECT_EQ(data->type, 3);
  }
  EXPECT_EQ(sregs.tr.type, 0xb) << "KVM's TR kept";
  EXPECT_EQ(sregs.apic_base, 0xfee00900u) << "KVM's APIC base kept";
}

TEST(BootCpuState, RegistersFollowTheBootProtocol) {
  const kvm_regs regs = boot_regs(BootEntry{0x1000200, layout::kZeroPageAddress});
  EXPECT_EQ(regs.rip, 0x1000200u);
  EXPECT_EQ(regs.rsi, layout::kZeroPageAddress);
  EXPECT_EQ(regs.rsp, layout::kBootStackPointer);
  EXPECT_EQ(regs.rflags, 2u) << "interrupts off";
  EXPECT_EQ(regs.rax, 0u);
}

TEST(BootCpuState, FpuAndMsrs) {
  const kvm_fpu fpu = boot_fpu();
  EXPECT_EQ(fpu.fcw, 0x37f);
  EXPECT_EQ(fpu.mxcsr, 0x1f80u);
  std::map<uint32_t, uint64_t> msrs;
  for (const kvm_msr_entry& entry : boot_msrs()) msrs[entry.index] = entry.data;
  EXPECT_EQ(msrs.size(), 10u);
  for (uint32_t cleared : {kMsrSysenterCs, kMsrSysenterEsp, kMsrSysenterEip, kMsrStar, kMsrLstar,
                           kMsrCstar, kMsrKernelGsBase, kMsrSyscallMask, kMsrTsc}) {
    ASSERT_TRUE(msrs.count(cleared)) << std::hex << cleared;
    EXPECT_EQ(msrs[cleared], 0u);
  }
  EXPECT_EQ(msrs[kMsrMiscEnable], kMiscEnableFastStrings);
}

TEST(BootCpuState, LintModesChangeOnlyTheDeliveryMode) {
  kvm_lapic_state lapic{};
  const uint32_t masked_fixed = 0x10000;  // reset value: masked, fixed delivery
  const uint32_t other = 0xdeadbeef;
  std::memcpy(lapic.regs + kApicLvtLint0, &masked_fixed, 4);
  std::memcpy(lapic.regs + kApicLvtLint1, &masked_fixed, 4);
  std::memcpy(lapic.regs + 0x370, &other, 4);  // LVT error, untouched
  const kvm_lapic_state result = with_pc_lint_modes(lapic);
  uint32_t lint0, lint1, error;
  std::memcpy(&lint0, result.regs + kApicLvtLint0, 4);
  std::memcpy(&lint1, result.regs + kApicLvtLint1, 4);
  std::memcpy(&error, result.regs + 0x370, 4);
  EXPECT_EQ(lint0, 0x10700u);
  EXPECT_EQ(lint1, 0x10400u);
  EXPECT_EQ(error, other);
}

}  // namespace
}  // namespace podrt::vmm
