// 16-bit real-mode guests (payloads/real_mode_*.S) under the real /dev/kvm: every port-I/O and
// MMIO exit the VMM decodes, HLT, and stopping a spinning vCPU from another thread.
#include <gtest/gtest.h>
#include <pthread.h>
#include <sys/eventfd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstring>
#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "stage1-kvm/kvm/kvm_system.h"
#include "stage1-kvm/x86/layout.h"
#include "tests/vmm/kvm/kvm_test_support.h"
#include "tests/vmm/support/payload.h"

namespace podrt::vmm {
namespace {

using test::next_exit;

constexpr uint64_t kMemorySize = 1ull << 20;  // MMIO at layout::kMmioStart stays unbacked

/// A VM with RAM at 0, no irqchip (so HLT exits to us), one vCPU in real mode at the payload.
struct RealModeVm {
  KvmSystem kvm;
  GuestMemory memory;
  KvmVm vm;
  KvmVcpu vcpu;
};

Result<RealModeVm> make_real_mode_vm(std::span<const uint8_t> payload) {
  KvmSystem kvm = PODRT_TRY(KvmSystem::open());
  GuestMemory memory = PODRT_TRY(GuestMemory::allocate(kMemorySize));
  PODRT_TRY(memory.write(PODRT_PAYLOAD_REAL_MODE_LOAD_ADDRESS, payload));
  KvmVm vm = PODRT_TRY(kvm.create_vm());
  PODRT_TRY(vm.set_tss_address(layout::kTssAddress));
  PODRT_TRY(vm.set_identity_map_address(layout::kIdentityMapAddress));
  PODRT_TRY(vm.set_user_memory(0, 0, memory));
  KvmVcpu vcpu = PODRT_TRY(vm.create_vcpu(0));

  kvm_sregs sregs = PODRT_TRY(vcpu.get_sregs());
  sregs.cs.base = 0;
  sregs.cs.selector = 0;
  for (kvm_segment* data : {&sregs.ds, &sregs.es, &sregs.ss}) {
    data->base = 0;
    data->selector = 0;
  }
  // FS reaches the MMIO window, beyond what a real-mode selector can name.
  sregs.fs.base = layout::kMmioStart;
  sregs.fs.selector = 0;
  PODRT_TRY(vcpu.set_sregs(sregs));
  kvm_regs regs{};
  regs.rip = PODRT_PAYLOAD_REAL_MODE_LOAD_ADDRESS;
  regs.rflags = 2;
  PODRT_TRY(vcpu.set_regs(regs));
  return RealModeVm{std::move(kvm), std::move(memory), std::move(vm), std::move(vcpu)};
}

/// Runs through the first four exits of real_mode_io: OUT, IN (answered), OUT echo.
void run_port_exits(KvmVcpu& vcpu) {
  auto out = next_exit<vcpu_exit::IoOut>(vcpu);
  ASSERT_TRUE(out);
  EXPECT_EQ(out->port, PODRT_PAYLOAD_OUT_PORT);
  EXPECT_EQ(out->size, 1u);
  EXPECT_EQ(out->count, 1u);
  ASSERT_EQ(out->data.size(), 1u);
  EXPECT_EQ(out->data[0], PODRT_PAYLOAD_OUT_VALUE);

  auto in = next_exit<vcpu_exit::IoIn>(vcpu);
  ASSERT_TRUE(in);
  EXPECT_EQ(in->port, PODRT_PAYLOAD_IN_PORT);
  ASSERT_EQ(in->data.size(), 1u);
  in->data[0] = 0xa5;

  auto echo = next_exit<vcpu_exit::IoOut>(vcpu);
  ASSERT_TRUE(echo);
  EXPECT_EQ(echo->port, PODRT_PAYLOAD_ECHO_PORT);
  ASSERT_EQ(echo->data.size(), 1u);
  EXPECT_EQ(echo->data[0], 0xa5) << "the guest did not get the value the test supplied";
}

TEST(KvmRealMode, PortAndMmioExitsThenHalt) {
  PODRT_REQUIRE_KVM("16-bit guest port I/O, MMIO, string I/O and HLT exits");
  PODRT_ASSERT_OK_AND_GET(machine, make_real_mode_vm(PODRT_PAYLOAD(real_mode_io)));
  KvmVcpu& vcpu = machine.vcpu;
  run_port_exits(vcpu);
  if (HasFatalFailure()) return;

  auto store = next_exit<vcpu_exit::MmioWrite>(vcpu);
  ASSERT_TRUE(store);
  EXPECT_EQ(store->address, layout::kMmioStart + PODRT_PAYLOAD_MMIO_WRITE_OFFSET);
  ASSERT_EQ(store->data.size(), 4u);
  uint32_t stored;
  std::memcpy(&stored, store->data.data(), 4);
  EXPECT_EQ(stored, uint32_t{PODRT_PAYLOAD_MMIO_WRITE_VALUE});

  auto load = next_exit<vcpu_exit::MmioRead>(vcpu);
  ASSERT_TRUE(load);
  EXPECT_EQ(load->address, layout::kMmioStart + PODRT_PAYLOAD_MMIO_READ_OFFSET);
  ASSERT_EQ(load->data.size(), 4u);
  const uint32_t answer = 0xcafe1234;
  std::memcpy(load->data.data(), &answer, 4);

  auto loaded_echo = next_exit<vcpu_exit::IoOut>(vcpu);
  ASSERT_TRUE(loaded_echo);
  EXPECT_EQ(loaded_echo->port, PODRT_PAYLOAD_ECHO_PORT);
  ASSERT_EQ(loaded_echo->size, 4u);
  uint32_t echoed;
  std::memcpy(&echoed, loaded_echo->data.data(), 4);
  EXPECT_EQ(echoed, answer);

  // rep outsb: KVM on hardware hands over the string in one exit (count 3); this nested host
  // splits it into one exit per byte. Either way every element counts.
  std::string written;
  while (written.size() < PODRT_PAYLOAD_STRING_LENGTH) {
    auto string_out = next_exit<vcpu_exit::IoOut>(vcpu);
    ASSERT_TRUE(string_out);
    EXPECT_EQ(string_out->port, PODRT_PAYLOAD_STRING_PORT);
    ASSERT_EQ(string_out->size, 1u);
    ASSERT_GE(string_out->count, 1u);
    for (uint32_t i = 0; i < string_out->count; ++i)
      written.push_back(static_cast<char>(string_out->element(i)[0]));
  }
  EXPECT_EQ(written, "abc");

  const std::string answered = "xyz";
  size_t filled = 0;
  while (filled < answered.size()) {
    auto string_in = next_exit<vcpu_exit::IoIn>(vcpu);
    ASSERT_TRUE(string_in);
    EXPECT_EQ(string_in->port, PODRT_PAYLOAD_STRING_PORT);
    ASSERT_LE(filled + string_in->count, answered.size());
    for (uint32_t i = 0; i < string_in->count; ++i)
      string_in->element(i)[0] = static_cast<uint8_t>(answered[filled++]);
  }

  ASSERT_TRUE(next_exit<vcpu_exit::Halt>(vcpu));
  char in_memory[4] = {};
  ASSERT_TRUE(machine.memory.read(PODRT_PAYLOAD_STRING_IN_ADDRESS,
                                  {reinterpret_cast<uint8_t*>(in_memory), 3}));
  EXPECT_STREQ(in_memory, "xyz");
}

TEST(KvmRealMode, IoeventfdTakesTheMatchingMmioWrite) {
  PODRT_REQUIRE_KVM("KVM_IOEVENTFD on an MMIO address");
  PODRT_ASSERT_OK_AND_GET(machine, make_real_mode_vm(PODRT_PAYLOAD(real_mode_io)));
  UniqueFd notify(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  ASSERT_TRUE(notify);
  ASSERT_TRUE(machine.vm.register_ioeventfd(
      notify.get(), layout::kMmioStart + PODRT_PAYLOAD_MMIO_WRITE_OFFSET, 4,
      PODRT_PAYLOAD_MMIO_WRITE_VALUE, /*port_io=*/false));
  run_port_exits(machine.vcpu);
  if (HasFatalFailure()) return;
  // The store went to the eventfd: the next exit is already the load.
  ASSERT_TRUE(next_exit<vcpu_exit::MmioRead>(machine.vcpu));
  uint64_t count = 0;
  ASSERT_EQ(::read(notify.get(), &count, sizeof count), static_cast<ssize_t>(sizeof count));
  EXPECT_EQ(count, 1u);
}

TEST(KvmRealMode, ImmediateExitBeforeRunReturnsInterrupted) {
  PODRT_REQUIRE_KVM("kvm_run->immediate_exit");
  PODRT_ASSERT_OK_AND_GET(machine, make_real_mode_vm(PODRT_PAYLOAD(real_mode_spin)));
  machine.vcpu.set_immediate_exit(true);
  ASSERT_TRUE(next_exit<vcpu_exit::Interrupted>(machine.vcpu));
  // Nothing ran: still at the first instruction.
  PODRT_ASSERT_OK_AND_GET(regs, machine.vcpu.get_regs());
  EXPECT_EQ(regs.rip, uint64_t{PODRT_PAYLOAD_REAL_MODE_LOAD_ADDRESS});
}

TEST(KvmRealMode, SpinningVcpuStopsOnImmediateExitAndSignal) {
  PODRT_REQUIRE_KVM("stopping a running vCPU from another thread");
  PODRT_ASSERT_OK_AND_GET(machine, make_real_mode_vm(PODRT_PAYLOAD(real_mode_spin)));
  const int kick_signal = SIGUSR1;
  ASSERT_TRUE(KvmVcpu::install_kick_signal_handler(kick_signal));

  std::atomic<bool> entered{false};
  std::atomic<bool> done{false};
  std::optional<vcpu_exit::Interrupted> stopped;
  std::thread vcpu_thread([&] {
    entered = true;
    stopped = next_exit<vcpu_exit::Interrupted>(machine.vcpu);
    done = true;
  });
  while (!entered) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(20));
  EXPECT_FALSE(done) << "the spinning guest exited on its own";
  machine.vcpu.set_immediate_exit(true);
  // Repeated: a signal that lands just before KVM_RUN is caught by immediate_exit instead.
  for (int attempt = 0; attempt < 200 && !done; ++attempt) {
    ::pthread_kill(vcpu_thread.native_handle(), kick_signal);
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_TRUE(done) << "vCPU did not stop; the test process cannot recover from this";
  vcpu_thread.join();
  EXPECT_TRUE(stopped);
  PODRT_ASSERT_OK_AND_GET(regs, machine.vcpu.get_regs());
  EXPECT_EQ(regs.rip, uint64_t{PODRT_PAYLOAD_REAL_MODE_LOAD_ADDRESS}) << "not in the spin loop";
}

}  // namespace
}  // namespace podrt::vmm
