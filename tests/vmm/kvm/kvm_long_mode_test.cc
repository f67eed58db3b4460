// 64-bit guests started the way the VMM starts Linux: boot tables in guest memory, the in-kernel
// irqchip and PIT, vCPUs configured by configure_vcpu().
#include <gtest/gtest.h>
#include <sys/eventfd.h>

#include <algorithm>
#include <cstring>

#include "common/unique_fd.h"
#include "stage1-kvm/kvm/kvm_system.h"
#include "stage1-kvm/x86/boot_cpu.h"
#include "stage1-kvm/x86/boot_tables.h"
#include "stage1-kvm/x86/layout.h"
#include "tests/vmm/kvm/kvm_test_support.h"
#include "tests/vmm/support/payload.h"

namespace podrt::vmm {
namespace {

using test::next_exit;

constexpr uint64_t kMemorySize = 4ull << 20;
constexpr uint64_t kEntryAddress = layout::kHighRamStart;

struct LongModeVm {
  KvmSystem kvm;
  GuestMemory memory;
  KvmVm vm;
  std::vector<kvm_cpuid_entry2> supported_cpuid;
};

Result<LongModeVm> make_long_mode_vm(std::span<const uint8_t> payload) {
  KvmSystem kvm = PODRT_TRY(KvmSystem::open());
  GuestMemory memory = PODRT_TRY(GuestMemory::allocate(kMemorySize));
  PODRT_TRY(write_boot_tables(memory));
  PODRT_TRY(memory.write(kEntryAddress, payload));
  KvmVm vm = PODRT_TRY(kvm.create_vm());
  PODRT_TRY(vm.set_tss_address(layout::kTssAddress));
  PODRT_TRY(vm.set_identity_map_address(layout::kIdentityMapAddress));
  PODRT_TRY(vm.create_irqchip());
  PODRT_TRY(vm.create_pit());
  PODRT_TRY(vm.set_user_memory(0, 0, memory));
  auto cpuid = PODRT_TRY(kvm.supported_cpuid());
  return LongModeVm{std::move(kvm), std::move(memory), std::move(vm), std::move(cpuid)};
}

const kvm_cpuid_entry2* find_leaf(const std::vector<kvm_cpuid_entry2>& cpuid, uint32_t leaf) {
  auto it = std::find_if(cpuid.begin(), cpuid.end(),
                         [leaf](const kvm_cpuid_entry2& entry) { return entry.function == leaf; });
  return it == cpuid.end() ? nullptr : &*it;
}

uint32_t lapic_register(const kvm_lapic_state& lapic, uint32_t offset) {
  uint32_t value;
  std::memcpy(&value, lapic.regs + offset, sizeof value);
  return value;
}

TEST(KvmLongMode, BootCpuEntersLongModeAndWritesTheBootTimerMagic) {
  PODRT_REQUIRE_KVM("the 64-bit boot state (GDT, page tables, long-mode sregs)");
  PODRT_ASSERT_OK_AND_GET(machine, make_long_mode_vm(PODRT_PAYLOAD(long_mode_boot)));
  PODRT_ASSERT_OK_AND_GET(vcpu, machine.vm.create_vcpu(0));
  ASSERT_TRUE(configure_vcpu(vcpu, machine.supported_cpuid, 0, 1, BootEntry{kEntryAddress}));

  auto out = next_exit<vcpu_exit::IoOut>(vcpu);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->port, layout::kBootTimerPort);
  ASSERT_EQ(out->data.size(), 1u);
  EXPECT_EQ(out->data[0], layout::kBootTimerMagic);

  PODRT_ASSERT_OK_AND_GET(regs, vcpu.get_regs());
  EXPECT_EQ(regs.rbx, uint64_t{PODRT_PAYLOAD_LONG_MODE_RBX} * 2) << "no 64-bit arithmetic";
  EXPECT_EQ(regs.rdi, regs.rbx) << "push/pop on the boot stack lost the value";
  EXPECT_EQ(regs.rsp, layout::kBootStackPointer);
  EXPECT_EQ(regs.rsi, layout::kZeroPageAddress);
  PODRT_ASSERT_OK_AND_GET(sregs, vcpu.get_sregs());
  EXPECT_TRUE(sregs.efer & boot_cpu::kEferLongModeActive);
  EXPECT_EQ(sregs.cs.selector, boot_tables::kCodeSelector);
  EXPECT_EQ(sregs.cs.l, 1);
  EXPECT_EQ(sregs.ss.selector, boot_tables::kDataSelector);
  // Something rewrote the tables if the pushed value landed anywhere but the boot stack.
  PODRT_ASSERT_OK_AND_GET(pushed, machine.memory.read_object<uint64_t>(layout::kBootStackPointer - 8));
  EXPECT_EQ(pushed, regs.rbx);
}

TEST(KvmLongMode, VcpuStateMatchesWhatWasConfigured) {
  PODRT_REQUIRE_KVM("CPUID, MSRs, LAPIC LINT modes and AP state as KVM holds them");
  PODRT_ASSERT_OK_AND_GET(machine, make_long_mode_vm(PODRT_PAYLOAD(long_mode_boot)));
  PODRT_ASSERT_OK_AND_GET(boot, machine.vm.create_vcpu(0));
  PODRT_ASSERT_OK_AND_GET(secondary, machine.vm.create_vcpu(1));
  ASSERT_TRUE(configure_vcpu(boot, machine.supported_cpuid, 0, 2, BootEntry{kEntryAddress}));
  auto configured = configure_vcpu(secondary, machine.supported_cpuid, 1, 2, std::nullopt);
  ASSERT_TRUE(configured) << configured.error().message();

  PODRT_ASSERT_OK_AND_GET(cpuid, secondary.get_cpuid());
  const kvm_cpuid_entry2* leaf1 = find_leaf(cpuid, 1);
  ASSERT_NE(leaf1, nullptr);
  EXPECT_EQ(leaf1->ebx >> 24, 1u) << "APIC ID";
  EXPECT_EQ((leaf1->ebx >> 16) & 0xff, 2u) << "logical processors";
  EXPECT_TRUE(leaf1->ecx & (1u << 31)) << "hypervisor bit";

  PODRT_ASSERT_OK_AND_GET(lapic, secondary.get_lapic());
  EXPECT_EQ(lapic_register(lapic, boot_cpu::kApicLvtLint0) & boot_cpu::kApicDeliveryModeMask,
            boot_cpu::kApicDeliveryExtInt);
  EXPECT_EQ(lapic_register(lapic, boot_cpu::kApicLvtLint1) & boot_cpu::kApicDeliveryModeMask,
            boot_cpu::kApicDeliveryNmi);

  kvm_msr_entry misc_enable{};
  misc_enable.index = boot_cpu::kMsrMiscEnable;
  ASSERT_TRUE(boot.get_msrs({&misc_enable, 1}));
  EXPECT_TRUE(misc_enable.data & boot_cpu::kMiscEnableFastStrings);

  // The AP waits for INIT/SIPI in the in-kernel irqchip; the BSP runs.
  PODRT_ASSERT_OK_AND_GET(ap_state, secondary.get_mp_state());
  EXPECT_EQ(ap_state.mp_state, uint32_t{KVM_MP_STATE_UNINITIALIZED});
  PODRT_ASSERT_OK_AND_GET(bsp_state, boot.get_mp_state());
  EXPECT_EQ(bsp_state.mp_state, uint32_t{KVM_MP_STATE_RUNNABLE});
}

TEST(KvmLongMode, ExceptionWithTheEmptyIdtIsATripleFault) {
  PODRT_REQUIRE_KVM("triple fault -> KVM_EXIT_SHUTDOWN");
  PODRT_ASSERT_OK_AND_GET(machine, make_long_mode_vm(PODRT_PAYLOAD(long_mode_triple_fault)));
  PODRT_ASSERT_OK_AND_GET(vcpu, machine.vm.create_vcpu(0));
  ASSERT_TRUE(configure_vcpu(vcpu, machine.supported_cpuid, 0, 1, BootEntry{kEntryAddress}));
  ASSERT_TRUE(next_exit<vcpu_exit::Shutdown>(vcpu));
}

TEST(KvmLongMode, ConfigureRejectsABadVcpuIndex) {
  PODRT_REQUIRE_KVM("configure_vcpu argument checks");
  PODRT_ASSERT_OK_AND_GET(machine, make_long_mode_vm(PODRT_PAYLOAD(long_mode_boot)));
  PODRT_ASSERT_OK_AND_GET(vcpu, machine.vm.create_vcpu(0));
  auto result = configure_vcpu(vcpu, machine.supported_cpuid, 2, 2, std::nullopt);
  ASSERT_FALSE(result);
  EXPECT_NE(result.error().message().find("vCPU 2 of 2"), std::string::npos)
      << result.error().message();
}

TEST(KvmIrqchip, IrqchipPitAndEventfdWiring) {
  PODRT_REQUIRE_KVM("in-kernel irqchip, PIT, irqfd and ioeventfd registration");
  PODRT_ASSERT_OK_AND_GET(kvm, KvmSystem::open());
  PODRT_ASSERT_OK_AND_GET(vm, kvm.create_vm());
  ASSERT_TRUE(vm.create_irqchip());
  auto second = vm.create_irqchip();
  ASSERT_FALSE(second);
  EXPECT_NE(second.error().message().find("KVM_CREATE_IRQCHIP"), std::string::npos);
  auto pit = vm.create_pit();
  ASSERT_TRUE(pit) << pit.error().message();

  UniqueFd interrupt(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  UniqueFd notify(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  ASSERT_TRUE(interrupt && notify);
  auto irqfd = vm.register_irqfd(interrupt.get(), layout::kVirtioFirstIrq);
  EXPECT_TRUE(irqfd) << irqfd.error().message();
  auto mmio = vm.register_ioeventfd(notify.get(), layout::kVirtioMmioBase + 0x50, 4, 0, false);
  EXPECT_TRUE(mmio) << mmio.error().message();
  auto bad_length = vm.register_ioeventfd(notify.get(), layout::kVirtioMmioBase, 3, 0, false);
  ASSERT_FALSE(bad_length);
  EXPECT_NE(bad_length.error().message().find("length must be 0, 1, 2, 4 or 8"),
            std::string::npos);
  EXPECT_TRUE(vm.set_irq_line(layout::kSerialIrq, true));
  EXPECT_TRUE(vm.set_irq_line(layout::kSerialIrq, false));
}

}  // namespace
}  // namespace podrt::vmm
