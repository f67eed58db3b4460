// The loop each vCPU thread runs: KVM_RUN, then the exit handled - port I/O and MMIO dispatched
// to the buses, the guest's end (triple fault, KVM system event) and every fault reported
// through the StopSignal - until the VM is stopped.
#pragma once

#include "stage1-kvm/bus/bus.h"
#include "stage1-kvm/kvm/kvm_vcpu.h"
#include "stage1-kvm/vmm/stop_signal.h"

namespace podrt::vmm {

struct VcpuBuses {
  const Bus* io = nullptr;
  const Bus* mmio = nullptr;
};

/// What one exit means for the VM: go on, or stop (the reason given to `stop`). Exposed for tests.
enum class ExitVerdict { kContinue, kStopped };
ExitVerdict handle_vcpu_exit(const VcpuExit& exit, const VcpuBuses& buses, StopSignal& stop,
                             uint32_t vcpu_index);

/// Runs vCPU `index` until stop is requested. Blocks; call it on the vCPU's own thread.
void run_vcpu(KvmVcpu& vcpu, uint32_t index, const VcpuBuses& buses, StopSignal& stop);

}  // namespace podrt::vmm
