// KvmVm: one KVM virtual machine (the fd from KVM_CREATE_VM). Its memory, in-kernel interrupt
// controllers and timers, eventfd wiring and vCPUs are set up through here; closing it (with
// every vCPU) destroys the VM.
#pragma once

#include <cstdint>
#include <optional>

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage1-kvm/kvm/kvm_vcpu.h"
#include "stage1-kvm/memory/guest_memory.h"

namespace podrt::vmm {

class KvmSystem;

class KvmVm {
 public:
  KvmVm(KvmVm&&) noexcept = default;
  KvmVm& operator=(KvmVm&&) noexcept = default;

  /// KVM_CHECK_EXTENSION on the VM (some answers differ per VM type).
  int check_extension(int capability) const;

  /// Maps all of `memory` at `guest_address` as memory slot `slot`. `memory` must outlive the
  /// VM (KVM keeps using its host pages).
  Result<void> set_user_memory(uint32_t slot, uint64_t guest_address, const GuestMemory& memory);
  /// The in-kernel 8259 PICs, IOAPIC and (for every vCPU created later) local APIC, with
  /// KVM's default routing of GSIs 0-23 to both. Before any create_vcpu().
  Result<void> create_irqchip();
  /// The in-kernel 8254 PIT on IRQ 0, its PC speaker port a dummy. After create_irqchip().
  Result<void> create_pit();
  /// The three pages KVM_SET_TSS_ADDR uses on Intel (layout::kTssAddress).
  Result<void> set_tss_address(uint64_t address);
  /// The page KVM_SET_IDENTITY_MAP_ADDR uses on Intel (layout::kIdentityMapAddress).
  Result<void> set_identity_map_address(uint64_t address);

  /// Every write to `eventfd` raises GSI `gsi` (an edge on the IOAPIC pin). The fd stays owned
  /// by the caller; KVM holds its own reference.
  Result<void> register_irqfd(int eventfd, uint32_t gsi);
  /// A guest write of `length` (0: any length, else 1, 2, 4 or 8) bytes to `address` (a port
  /// if `port_io`, else a guest-physical address) signals `eventfd` instead of exiting to the
  /// VMM; with `datamatch`, only writes of that value do.
  Result<void> register_ioeventfd(int eventfd, uint64_t address, uint32_t length,
                                  std::optional<uint64_t> datamatch, bool port_io);
  /// Drives IRQ line `irq` to `level` (KVM_IRQ_LINE), for level-triggered legacy devices.
  Result<void> set_irq_line(uint32_t irq, bool level);

  /// vCPU `index` (its APIC ID). With an in-kernel irqchip, vCPU 0 starts running and the
  /// others wait for INIT/SIPI.
  Result<KvmVcpu> create_vcpu(uint32_t index);

 private:
  friend class KvmSystem;
  KvmVm(UniqueFd fd, int vcpu_mmap_size) : fd_(std::move(fd)), vcpu_mmap_size_(vcpu_mmap_size) {}

  UniqueFd fd_;
  int vcpu_mmap_size_ = 0;
};

}  // namespace podrt::vmm
