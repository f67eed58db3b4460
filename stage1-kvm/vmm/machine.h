// Machine: one x86_64 VM as podrt-vmm runs it - KVM, guest memory, the loaded kernel, the buses
// with their devices, the vCPUs - built in one function (Machine::build, in the order the
// hardware needs it) and run until the guest ends.
//
//   port I/O: 0x3f8 8250 UART (IRQ 4), 0x60/0x64 i8042 (reset ends the VM), 0x4f0 boot timer;
//             PIC, PIT and the speaker port are KVM's (in-kernel irqchip and PIT)
//   MMIO:     virtio-mmio at layout::kVirtioMmioBase + i * 4 KiB, IRQ kVirtioFirstIrq + i:
//             the disks in order, then the control console, then the nics
#pragma once

#include <chrono>
#include <memory>
#include <thread>
#include <vector>

#include "stage1-kvm/bus/bus.h"
#include "stage1-kvm/devices/eventfd_interrupt_line.h"
#include "stage1-kvm/kvm/kvm_system.h"
#include "stage1-kvm/kvm/kvm_vcpu.h"
#include "stage1-kvm/kvm/kvm_vm.h"
#include "stage1-kvm/memory/guest_memory.h"
#include "stage1-kvm/vmm/event_loop.h"
#include "stage1-kvm/vmm/stop_signal.h"
#include "stage1-kvm/vmm/vmm_options.h"

namespace podrt::vmm {

class VirtioMmioTransport;

class Machine {
 public:
  using Clock = std::chrono::steady_clock;

  /// Builds everything up to the first guest instruction. `started` is when the VMM started
  /// (the boot timer and --report-times count from it).
  static Result<std::unique_ptr<Machine>> build(const VmmOptions& options, Clock::time_point started);

  Machine(const Machine&) = delete;
  Machine& operator=(const Machine&) = delete;
  ~Machine();

  /// Starts the vCPUs and runs the devices' I/O on this thread until the guest ends. Success:
  /// the guest powered off or rebooted (how a pod's VM ends); an error: why the VM was stopped.
  Result<void> run();

 private:
  Machine(KvmSystem kvm, KvmVm vm, GuestMemory memory, EventLoop loop, StopSignal stop);
  Result<void> add_virtio_device(std::shared_ptr<class VirtioDevice> device);
  void stop_vcpus();
  void deliver_last_guest_output();

  const VmmOptions* options_ = nullptr;
  Clock::time_point started_;
  KvmSystem kvm_;
  KvmVm vm_;
  GuestMemory memory_;
  EventLoop loop_;
  StopSignal stop_;
  Bus io_bus_;
  Bus mmio_bus_;
  std::vector<KvmVcpu> vcpus_;
  std::vector<std::thread> vcpu_threads_;
  std::vector<std::unique_ptr<EventFdInterruptLine>> interrupt_lines_;
  std::vector<std::shared_ptr<BusDevice>> devices_;
  std::vector<std::shared_ptr<VirtioMmioTransport>> virtio_transports_;
  std::vector<UniqueFd> queue_notifiers_;
  /// The virtio_mmio.device= entries for the kernel command line.
  std::string virtio_command_line_;
  uint32_t next_virtio_slot_ = 0;
};

}  // namespace podrt::vmm
