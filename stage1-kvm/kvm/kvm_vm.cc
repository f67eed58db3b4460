#include "stage1-kvm/kvm/kvm_vm.h"

#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <cstdio>
#include <string>

#include "stage1-kvm/memory/hex.h"

namespace podrt::vmm {
namespace {

constexpr uint64_t kPageSize = 4096;

}  // namespace

int KvmVm::check_extension(int capability) const {
  int result = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, capability);
  return result < 0 ? 0 : result;
}

Result<void> KvmVm::set_user_memory(uint32_t slot, uint64_t guest_address,
                                    const GuestMemory& memory) {
  const std::string what = "map guest memory slot " + std::to_string(slot) + " at " +
                           hex(guest_address) + "+" + hex(memory.size());
  if (guest_address % kPageSize != 0 || memory.size() % kPageSize != 0 ||
      memory.size() > UINT64_MAX - guest_address)
    return Error::invalid(what + ": not page-aligned or past the end of the address space");
  kvm_userspace_memory_region region{};
  region.slot = slot;
  region.guest_phys_addr = guest_address;
  region.memory_size = memory.size();
  region.userspace_addr = reinterpret_cast<uint64_t>(memory.host_base());
  if (::ioctl(fd_.get(), KVM_SET_USER_MEMORY_REGION, &region) < 0)
    return Error::from_errno("KVM_SET_USER_MEMORY_REGION: " + what);
  return ok();
}

Result<void> KvmVm::create_irqchip() {
  if (::ioctl(fd_.get(), KVM_CREATE_IRQCHIP, 0) < 0)
    return Error::from_errno("KVM_CREATE_IRQCHIP");
  return ok();
}

Result<void> KvmVm::create_pit() {
  kvm_pit_config config{};
  // No PC speaker device behind port 0x61's speaker bits: KVM answers them itself.
  config.flags = KVM_PIT_SPEAKER_DUMMY;
  if (::ioctl(fd_.get(), KVM_CREATE_PIT2, &config) < 0)
    return Error::from_errno("KVM_CREATE_PIT2");
  return ok();
}

Result<void> KvmVm::set_tss_address(uint64_t address) {
  // The argument is the address itself, not a pointer to it.
  if (::ioctl(fd_.get(), KVM_SET_TSS_ADDR, static_cast<unsigned long>(address)) < 0)
    return Error::from_errno("KVM_SET_TSS_ADDR " + hex(address));
  return ok();
}

Result<void> KvmVm::set_identity_map_address(uint64_t address) {
  uint64_t value = address;
  if (::ioctl(fd_.get(), KVM_SET_IDENTITY_MAP_ADDR, &value) < 0)
    return Error::from_errno("KVM_SET_IDENTITY_MAP_ADDR " + hex(address));
  return ok();
}

Result<void> KvmVm::register_irqfd(int eventfd, uint32_t gsi) {
  kvm_irqfd irqfd{};
  irqfd.fd = static_cast<uint32_t>(eventfd);
  irqfd.gsi = gsi;
  if (::ioctl(fd_.get(), KVM_IRQFD, &irqfd) < 0)
    return Error::from_errno("KVM_IRQFD for GSI " + std::to_string(gsi));
  return ok();
}

Result<void> KvmVm::register_ioeventfd(int eventfd, uint64_t address, uint32_t length,
                                       std::optional<uint64_t> datamatch, bool port_io) {
  const std::string what = std::string("KVM_IOEVENTFD for ") + (port_io ? "port " : "MMIO ") +
                           hex(address) + "+" + std::to_string(length);
  if (length != 0 && length != 1 && length != 2 && length != 4 && length != 8)
    return Error::invalid(what + ": length must be 0, 1, 2, 4 or 8");
  if (datamatch && length == 0) return Error::invalid(what + ": matching data needs a length");
  kvm_ioeventfd ioeventfd{};
  ioeventfd.addr = address;
  ioeventfd.len = length;
  ioeventfd.fd = eventfd;
  if (datamatch) {
    ioeventfd.flags |= KVM_IOEVENTFD_FLAG_DATAMATCH;
    ioeventfd.datamatch = *datamatch;
  }
  if (port_io) ioeventfd.flags |= KVM_IOEVENTFD_FLAG_PIO;
  if (::ioctl(fd_.get(), KVM_IOEVENTFD, &ioeventfd) < 0) return Error::from_errno(what);
  return ok();
}

Result<void> KvmVm::set_irq_line(uint32_t irq, bool level) {
  kvm_irq_level line{};
  line.irq = irq;
  line.level = level ? 1 : 0;
  if (::ioctl(fd_.get(), KVM_IRQ_LINE, &line) < 0)
    return Error::from_errno("KVM_IRQ_LINE " + std::to_string(irq));
  return ok();
}

Result<KvmVcpu> KvmVm::create_vcpu(uint32_t index) {
  const std::string what = "vCPU " + std::to_string(index);
  UniqueFd fd(::ioctl(fd_.get(), KVM_CREATE_VCPU, static_cast<unsigned long>(index)));
  if (!fd) return Error::from_errno("KVM_CREATE_VCPU for " + what);
  void* run = ::mmap(nullptr, static_cast<size_t>(vcpu_mmap_size_), PROT_READ | PROT_WRITE,
                     MAP_SHARED, fd.get(), 0);
  if (run == MAP_FAILED) return Error::from_errno("map kvm_run of " + what);
  return KvmVcpu(std::move(fd), static_cast<kvm_run*>(run), static_cast<size_t>(vcpu_mmap_size_),
                 index);
}

}  // namespace podrt::vmm
