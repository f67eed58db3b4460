#include "stage1-kvm/vmm/vcpu_loop.h"

#include <linux/kvm.h>

#include <cstring>

#include "stage1-kvm/memory/hex.h"

namespace podrt::vmm {
namespace {

std::string on_vcpu(uint32_t index) { return "vCPU " + std::to_string(index) + ": "; }

}  // namespace

ExitVerdict handle_vcpu_exit(const VcpuExit& exit, const VcpuBuses& buses, StopSignal& stop,
                             uint32_t vcpu_index) {
  using Kind = VcpuExit::Kind;
  switch (exit.kind()) {
    case Kind::kIoIn: {
      // A port nothing answers reads as all-ones, as on a PC: Linux probes absent hardware.
      const auto& in = *exit.as<vcpu_exit::IoIn>();
      for (uint32_t i = 0; i < in.count; ++i)
        if (!buses.io->read(in.port, in.element(i))) std::memset(in.element(i).data(), 0xff, in.size);
      return ExitVerdict::kContinue;
    }
    case Kind::kIoOut: {
      const auto& out = *exit.as<vcpu_exit::IoOut>();
      for (uint32_t i = 0; i < out.count; ++i) buses.io->write(out.port, out.element(i));
      return ExitVerdict::kContinue;
    }
    case Kind::kMmioRead: {
      // MMIO outside every device is a guest bug or an attack: nothing sensible to answer.
      const auto& read = *exit.as<vcpu_exit::MmioRead>();
      if (buses.mmio->read(read.address, read.data)) return ExitVerdict::kContinue;
      stop.fail(Error::invalid(on_vcpu(vcpu_index) + "the guest read unmapped guest-physical address " +
                               hex(read.address) + ": stopping the VM"));
      return ExitVerdict::kStopped;
    }
    case Kind::kMmioWrite: {
      const auto& write = *exit.as<vcpu_exit::MmioWrite>();
      if (buses.mmio->write(write.address, write.data)) return ExitVerdict::kContinue;
      stop.fail(Error::invalid(on_vcpu(vcpu_index) + "the guest wrote unmapped guest-physical address " +
                               hex(write.address) + ": stopping the VM"));
      return ExitVerdict::kStopped;
    }
    case Kind::kInterrupted:
      return ExitVerdict::kContinue;  // the caller looks at the StopSignal
    case Kind::kShutdown:
      // A triple fault: how Linux reboots with reboot=t, and how a pod's VM ends.
      stop.guest_ended();
      return ExitVerdict::kStopped;
    case Kind::kHalt:
      // Only without an in-kernel LAPIC (never here): a halted CPU with nothing to wake it.
      stop.guest_ended();
      return ExitVerdict::kStopped;
    case Kind::kSystemEvent: {
      uint32_t type = exit.as<vcpu_exit::SystemEvent>()->type;
      if (type == KVM_SYSTEM_EVENT_SHUTDOWN || type == KVM_SYSTEM_EVENT_RESET) {
        stop.guest_ended();
      } else {
        stop.fail(Error::invalid(on_vcpu(vcpu_index) + "the guest crashed (" + exit.describe() + ")"));
      }
      return ExitVerdict::kStopped;
    }
    case Kind::kFailEntry:
    case Kind::kInternalError:
    case Kind::kUnknown:
      stop.fail(Error::invalid(on_vcpu(vcpu_index) + "KVM stopped the guest: " + exit.describe()));
      return ExitVerdict::kStopped;
  }
  return ExitVerdict::kStopped;
}

void run_vcpu(KvmVcpu& vcpu, uint32_t index, const VcpuBuses& buses, StopSignal& stop) {
  while (!stop.requested()) {
    Result<VcpuExit> exit = vcpu.run();
    if (!exit) {
      stop.fail(std::move(exit).error().with_context(on_vcpu(index) + "KVM_RUN"));
      return;
    }
    if (handle_vcpu_exit(*exit, buses, stop, index) == ExitVerdict::kStopped) return;
  }
}

}  // namespace podrt::vmm
