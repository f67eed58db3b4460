// KvmVcpu: one virtual CPU, its fd and the kvm_run page KVM shares with it. run() enters the
// guest until the next exit the VMM must handle. A vCPU runs on one thread; the only call that is
// safe from another thread is set_immediate_exit(), which together with a signal to the vCPU's
// thread (install_kick_signal_handler) stops a running vCPU: KVM_RUN then returns EINTR, which
// run() reports as VcpuExit::Kind::kInterrupted.
#pragma once

#include <linux/kvm.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage1-kvm/kvm/vcpu_exit.h"

namespace podrt::vmm {

class KvmVm;

class KvmVcpu {
 public:
  KvmVcpu(const KvmVcpu&) = delete;
  KvmVcpu& operator=(const KvmVcpu&) = delete;
  KvmVcpu(KvmVcpu&& other) noexcept;
  KvmVcpu& operator=(KvmVcpu&& other) noexcept;
  ~KvmVcpu();

  uint32_t index() const { return index_; }

  /// Enters the guest (KVM_RUN). The spans in the exit point into this vCPU's kvm_run page and
  /// are valid until the next run(), which completes a read exit with what the handler wrote.
  Result<VcpuExit> run();

  /// While set, every KVM_RUN returns EINTR at once (before or after entering the guest). Safe
  /// from any thread; the setter clears it again once the vCPU is to run.
  void set_immediate_exit(bool exit);
  /// Installs a handler for `signal_number` that does nothing, process-wide, so that the signal
  /// interrupts KVM_RUN (an ignored signal would not) without killing the process. Without
  /// SA_RESTART: KVM_RUN is never restarted anyway, other blocking calls then see EINTR.
  static Result<void> install_kick_signal_handler(int signal_number);

  Result<kvm_regs> get_regs() const;
  Result<void> set_regs(const kvm_regs& regs);
  Result<kvm_sregs> get_sregs() const;
  Result<void> set_sregs(const kvm_sregs& sregs);
  Result<kvm_fpu> get_fpu() const;
  Result<void> set_fpu(const kvm_fpu& fpu);
  /// Reads the MSRs named by each entry's `index` into its `data`.
  Result<void> get_msrs(std::span<kvm_msr_entry> msrs) const;
  /// Sets every MSR; fails naming the first one KVM refused.
  Result<void> set_msrs(std::span<const kvm_msr_entry> msrs);
  /// KVM_SET_CPUID2: before the first run().
  Result<void> set_cpuid(std::span<const kvm_cpuid_entry2> entries);
  Result<std::vector<kvm_cpuid_entry2>> get_cpuid() const;
  /// The in-kernel local APIC's registers (needs KvmVm::create_irqchip()).
  Result<kvm_lapic_state> get_lapic() const;
  Result<void> set_lapic(const kvm_lapic_state& lapic);
  /// KVM_MP_STATE_RUNNABLE, _UNINITIALIZED (waiting for INIT/SIPI), _HALTED, ...
  Result<kvm_mp_state> get_mp_state() const;

 private:
  friend class KvmVm;
  KvmVcpu(UniqueFd fd, kvm_run* run, size_t run_size, uint32_t index)
      : fd_(std::move(fd)), run_(run), run_size_(run_size), index_(index) {}
  VcpuExit decode_exit();
  VcpuExit decode_io();
  void unmap();

  UniqueFd fd_;
  kvm_run* run_ = nullptr;
  size_t run_size_ = 0;
  uint32_t index_ = 0;
};

}  // namespace podrt::vmm
