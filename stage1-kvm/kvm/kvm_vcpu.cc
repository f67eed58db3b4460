#include "stage1-kvm/kvm/kvm_vcpu.h"

#include <sys/ioctl.h>
#include <sys/mman.h>

#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>

#include "stage1-kvm/kvm/kvm_flexible_ioctls.h"

namespace podrt::vmm {
namespace {

void ignore_kick(int) {}

/// A KVM ioctl that fills or reads `value`, as a Result naming the ioctl and the vCPU.
template <class T>
Result<void> vcpu_ioctl(int fd, unsigned long request, T* value, const char* name, uint32_t index) {
  if (::ioctl(fd, request, value) < 0)
    return Error::from_errno(std::string(name) + " on vCPU " + std::to_string(index));
  return ok();
}

/// A header followed by `count` entries (kvm_flexible_ioctls.h), in 8-byte words so both parts
/// are aligned; built and read back with memcpy.
template <class Header, class Entry>
class FlexibleArray {
 public:
  explicit FlexibleArray(size_t count)
      : words_((sizeof(Header) + count * sizeof(Entry) + 7) / 8) {}
  void* data() { return words_.data(); }
  Header header() const {
    Header header;
    std::memcpy(&header, words_.data(), sizeof header);
    return header;
  }
  void set_header(const Header& header) { std::memcpy(words_.data(), &header, sizeof header); }
  uint8_t* entries() { return reinterpret_cast<uint8_t*>(words_.data()) + sizeof(Header); }

 private:
  std::vector<uint64_t> words_;
};

/// KVM's own limit on entries per KVM_SET_CPUID2 / KVM_GET_MSRS call.
constexpr size_t kMaxCpuidEntries = 256;
constexpr size_t kMaxMsrs = 256;

}  // namespace

KvmVcpu::KvmVcpu(KvmVcpu&& other) noexcept
    : fd_(std::move(other.fd_)),
      run_(std::exchange(other.run_, nullptr)),
      run_size_(std::exchange(other.run_size_, 0)),
      index_(other.index_) {}

KvmVcpu& KvmVcpu::operator=(KvmVcpu&& other) noexcept {
  if (this != &other) {
    unmap();
    fd_ = std::move(other.fd_);
    run_ = std::exchange(other.run_, nullptr);
    run_size_ = std::exchange(other.run_size_, 0);
    index_ = other.index_;
  }
  return *this;
}

KvmVcpu::~KvmVcpu() { unmap(); }

void KvmVcpu::unmap() {
  if (run_ != nullptr) ::munmap(run_, run_size_);
  run_ = nullptr;
}

void KvmVcpu::set_immediate_exit(bool exit) {
  std::atomic_ref<uint8_t>(run_->immediate_exit).store(exit ? 1 : 0, std::memory_order_seq_cst);
}

Result<void> KvmVcpu::install_kick_signal_handler(int signal_number) {
  struct sigaction action {};
  action.sa_handler = ignore_kick;
  sigemptyset(&action.sa_mask);
  if (::sigaction(signal_number, &action, nullptr) < 0)
    return Error::from_errno("install the vCPU kick handler for signal " +
                             std::to_string(signal_number));
  return ok();
}

Result<VcpuExit> KvmVcpu::run() {
  if (::ioctl(fd_.get(), KVM_RUN, 0) < 0) {
    // EINTR: a signal or immediate_exit. EAGAIN: KVM asks to be called again (a vCPU that
    // is not runnable yet); to the caller both mean "nothing happened, decide and run again".
    if (errno == EINTR || errno == EAGAIN) return VcpuExit(vcpu_exit::Interrupted{});
    return Error::from_errno("KVM_RUN on vCPU " + std::to_string(index_));
  }
  return decode_exit();
}

VcpuExit KvmVcpu::decode_exit() {
  switch (run_->exit_reason) {
    case KVM_EXIT_IO:
      return decode_io();
    case KVM_EXIT_MMIO: {
      const uint32_t length = run_->mmio.len;
      if (length == 0 || length > sizeof run_->mmio.data)
        return vcpu_exit::Unknown{KVM_EXIT_MMIO};
      std::span<uint8_t> data(run_->mmio.data, length);
      if (run_->mmio.is_write) return vcpu_exit::MmioWrite{run_->mmio.phys_addr, data};
      return vcpu_exit::MmioRead{run_->mmio.phys_addr, data};
    }
    case KVM_EXIT_HLT:
      return vcpu_exit::Halt{};
    case KVM_EXIT_SHUTDOWN:
      return vcpu_exit::Shutdown{};
    case KVM_EXIT_SYSTEM_EVENT:
      return vcpu_exit::SystemEvent{run_->system_event.type};
    case KVM_EXIT_INTR:
      return vcpu_exit::Interrupted{};
    case KVM_EXIT_FAIL_ENTRY:
      return vcpu_exit::FailEntry{run_->fail_entry.hardware_entry_failure_reason,
                                  run_->fail_entry.cpu};
    case KVM_EXIT_INTERNAL_ERROR:
      return vcpu_exit::InternalError{run_->internal.suberror};
    default:
      return vcpu_exit::Unknown{run_->exit_reason};
  }
}

VcpuExit KvmVcpu::decode_io() {
  const auto& io = run_->io;
  const uint64_t size = io.size;
  const uint64_t count = io.count;
  // KVM fills these, but a span past the kvm_run mapping would let a handler scribble on host
  // memory, so they are checked like guest input.
  if ((size != 1 && size != 2 && size != 4) || count == 0 || io.data_offset > run_size_ ||
      size * count > run_size_ - io.data_offset)
    return vcpu_exit::Unknown{KVM_EXIT_IO};
  std::span<uint8_t> data(reinterpret_cast<uint8_t*>(run_) + io.data_offset, size * count);
  if (io.direction == KVM_EXIT_IO_OUT)
    return vcpu_exit::IoOut{io.port, static_cast<uint32_t>(size), static_cast<uint32_t>(count),
                            data};
  return vcpu_exit::IoIn{io.port, static_cast<uint32_t>(size), static_cast<uint32_t>(count), data};
}

Result<kvm_regs> KvmVcpu::get_regs() const {
  kvm_regs regs{};
  PODRT_TRY(vcpu_ioctl(fd_.get(), KVM_GET_REGS, &regs, "KVM_GET_REGS", index_));
  return regs;
}

Result<void> KvmVcpu::set_regs(const kvm_regs& regs) {
  return vcpu_ioctl(fd_.get(), KVM_SET_REGS, &regs, "KVM_SET_REGS", index_);
}

Result<kvm_sregs> KvmVcpu::get_sregs() const {
  kvm_sregs sregs{};
  PODRT_TRY(vcpu_ioctl(fd_.get(), KVM_GET_SREGS, &sregs, "KVM_GET_SREGS", index_));
  return sregs;
}

Result<void> KvmVcpu::set_sregs(const kvm_sregs& sregs) {
  return vcpu_ioctl(fd_.get(), KVM_SET_SREGS, &sregs, "KVM_SET_SREGS", index_);
}

Result<kvm_fpu> KvmVcpu::get_fpu() const {
  kvm_fpu fpu{};
  PODRT_TRY(vcpu_ioctl(fd_.get(), KVM_GET_FPU, &fpu, "KVM_GET_FPU", index_));
  return fpu;
}

Result<void> KvmVcpu::set_fpu(const kvm_fpu& fpu) {
  return vcpu_ioctl(fd_.get(), KVM_SET_FPU, &fpu, "KVM_SET_FPU", index_);
}

Result<void> KvmVcpu::get_msrs(std::span<kvm_msr_entry> msrs) const {
  if (msrs.size() > kMaxMsrs) return Error::invalid("too many MSRs for one KVM_GET_MSRS");
  FlexibleArray<kvm_abi::MsrsHeader, kvm_msr_entry> buffer(msrs.size());
  kvm_abi::MsrsHeader header{};
  header.nmsrs = static_cast<uint32_t>(msrs.size());
  buffer.set_header(header);
  if (!msrs.empty()) std::memcpy(buffer.entries(), msrs.data(), msrs.size_bytes());
  // Returns how many MSRs it read: it stops at the first it does not know.
  int read = ::ioctl(fd_.get(), kvm_abi::kGetMsrs, buffer.data());
  if (read < 0) return Error::from_errno("KVM_GET_MSRS on vCPU " + std::to_string(index_));
  if (static_cast<size_t>(read) != msrs.size()) {
    char text[96];
    std::snprintf(text, sizeof text, "KVM_GET_MSRS on vCPU %u: KVM does not know MSR 0x%x",
                  index_, msrs[static_cast<size_t>(read)].index);
    return Error::invalid(text);
  }
  if (!msrs.empty()) std::memcpy(msrs.data(), buffer.entries(), msrs.size_bytes());
  return ok();
}

Result<void> KvmVcpu::set_msrs(std::span<const kvm_msr_entry> msrs) {
  if (msrs.size() > kMaxMsrs) return Error::invalid("too many MSRs for one KVM_SET_MSRS");
  FlexibleArray<kvm_abi::MsrsHeader, kvm_msr_entry> buffer(msrs.size());
  kvm_abi::MsrsHeader header{};
  header.nmsrs = static_cast<uint32_t>(msrs.size());
  buffer.set_header(header);
  if (!msrs.empty()) std::memcpy(buffer.entries(), msrs.data(), msrs.size_bytes());
  int written = ::ioctl(fd_.get(), kvm_abi::kSetMsrs, buffer.data());
  if (written < 0) return Error::from_errno("KVM_SET_MSRS on vCPU " + std::to_string(index_));
  if (static_cast<size_t>(written) != msrs.size()) {
    char text[112];
    std::snprintf(text, sizeof text, "KVM_SET_MSRS on vCPU %u: KVM refused MSR 0x%x = 0x%llx",
                  index_, msrs[static_cast<size_t>(written)].index,
                  static_cast<unsigned long long>(msrs[static_cast<size_t>(written)].data));
    return Error::invalid(text);
  }
  return ok();
}

Result<void> KvmVcpu::set_cpuid(std::span<const kvm_cpuid_entry2> entries) {
  if (entries.size() > kMaxCpuidEntries)
    return Error::invalid("too many CPUID entries for KVM_SET_CPUID2");
  FlexibleArray<kvm_abi::Cpuid2Header, kvm_cpuid_entry2> buffer(entries.size());
  kvm_abi::Cpuid2Header header{};
  header.nent = static_cast<uint32_t>(entries.size());
  buffer.set_header(header);
  if (!entries.empty()) std::memcpy(buffer.entries(), entries.data(), entries.size_bytes());
  if (::ioctl(fd_.get(), kvm_abi::kSetCpuid2, buffer.data()) < 0)
    return Error::from_errno("KVM_SET_CPUID2 on vCPU " + std::to_string(index_));
  return ok();
}

Result<std::vector<kvm_cpuid_entry2>> KvmVcpu::get_cpuid() const {
  FlexibleArray<kvm_abi::Cpuid2Header, kvm_cpuid_entry2> buffer(kMaxCpuidEntries);
  kvm_abi::Cpuid2Header header{};
  header.nent = kMaxCpuidEntries;
  buffer.set_header(header);
  if (::ioctl(fd_.get(), kvm_abi::kGetCpuid2, buffer.data()) < 0)
    return Error::from_errno("KVM_GET_CPUID2 on vCPU " + std::to_string(index_));
  header = buffer.header();
  if (header.nent > kMaxCpuidEntries) return Error::invalid("KVM_GET_CPUID2 overran its buffer");
  std::vector<kvm_cpuid_entry2> entries(header.nent);
  if (!entries.empty())
    std::memcpy(entries.data(), buffer.entries(), header.nent * sizeof(kvm_cpuid_entry2));
  return entries;
}

Result<kvm_lapic_state> KvmVcpu::get_lapic() const {
  kvm_lapic_state lapic{};
  PODRT_TRY(vcpu_ioctl(fd_.get(), KVM_GET_LAPIC, &lapic, "KVM_GET_LAPIC", index_));
  return lapic;
}

Result<void> KvmVcpu::set_lapic(const kvm_lapic_state& lapic) {
  return vcpu_ioctl(fd_.get(), KVM_SET_LAPIC, &lapic, "KVM_SET_LAPIC", index_);
}

Result<kvm_mp_state> KvmVcpu::get_mp_state() const {
  kvm_mp_state state{};
  PODRT_TRY(vcpu_ioctl(fd_.get(), KVM_GET_MP_STATE, &state, "KVM_GET_MP_STATE", index_));
  return state;
}

}  // namespace podrt::vmm
