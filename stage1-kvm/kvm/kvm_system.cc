#include "stage1-kvm/kvm/kvm_system.h"

#include <fcntl.h>
#include <sys/ioctl.h>

#include <cerrno>
#include <cstring>

#include "stage1-kvm/kvm/kvm_capabilities.h"
#include "stage1-kvm/kvm/kvm_flexible_ioctls.h"

namespace podrt::vmm {
namespace {

/// The only KVM API version there has ever been a stable one of.
constexpr int kKvmApiVersion = 12;
/// KVM_GET_SUPPORTED_CPUID fails with E2BIG until the buffer is big enough; hosts have ~60-100.
constexpr uint32_t kFirstCpuidCapacity = 128;
constexpr uint32_t kMaxCpuidCapacity = 4096;

}  // namespace

Result<KvmSystem> KvmSystem::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDWR | O_CLOEXEC));
  if (!fd) return Error::from_errno("open KVM device " + path);
  int version = ::ioctl(fd.get(), KVM_GET_API_VERSION, 0);
  if (version < 0) return Error::from_errno("KVM_GET_API_VERSION on " + path + " (not KVM?)");
  if (version != kKvmApiVersion)
    return Error::invalid("KVM API version of " + path + " is " + std::to_string(version) +
                          ", the VMM needs " + std::to_string(kKvmApiVersion));
  int raw_fd = fd.get();
  PODRT_TRY(check_required_kvm_capabilities(
      [raw_fd](int capability) { return ::ioctl(raw_fd, KVM_CHECK_EXTENSION, capability); }));
  int mmap_size = ::ioctl(fd.get(), KVM_GET_VCPU_MMAP_SIZE, 0);
  if (mmap_size < 0) return Error::from_errno("KVM_GET_VCPU_MMAP_SIZE");
  if (static_cast<size_t>(mmap_size) < sizeof(kvm_run))
    return Error::invalid("KVM's vCPU mapping of " + std::to_string(mmap_size) +
                          " bytes is smaller than struct kvm_run");
  return KvmSystem(std::move(fd), mmap_size);
}

int KvmSystem::check_extension(int capability) const {
  int result = ::ioctl(fd_.get(), KVM_CHECK_EXTENSION, capability);
  return result < 0 ? 0 : result;
}

uint32_t KvmSystem::max_vcpus() const {
  // KVM documents KVM_CAP_NR_VCPUS as the fallback when KVM_CAP_MAX_VCPUS is absent, then 4.
  if (int max = check_extension(KVM_CAP_MAX_VCPUS); max > 0) return static_cast<uint32_t>(max);
  if (int recommended = check_extension(KVM_CAP_NR_VCPUS); recommended > 0)
    return static_cast<uint32_t>(recommended);
  return 4;
}

Result<std::vector<kvm_cpuid_entry2>> KvmSystem::supported_cpuid() const {
  for (uint32_t capacity = kFirstCpuidCapacity; capacity <= kMaxCpuidCapacity; capacity *= 2) {
    // A header then `capacity` entries, built in 8-byte words so that both are aligned.
    using Header = kvm_abi::Cpuid2Header;
    const size_t bytes = sizeof(Header) + capacity * sizeof(kvm_cpuid_entry2);
    std::vector<uint64_t> buffer((bytes + 7) / 8);
    Header header{capacity, 0};
    std::memcpy(buffer.data(), &header, sizeof header);
    if (::ioctl(fd_.get(), kvm_abi::kGetSupportedCpuid, buffer.data()) < 0) {
      if (errno == E2BIG) continue;
      return Error::from_errno("KVM_GET_SUPPORTED_CPUID");
    }
    std::memcpy(&header, buffer.data(), sizeof header);
    if (header.nent > capacity) return Error::invalid("KVM_GET_SUPPORTED_CPUID overran its buffer");
    std::vector<kvm_cpuid_entry2> entries(header.nent);
    if (!entries.empty())
      std::memcpy(entries.data(), reinterpret_cast<const uint8_t*>(buffer.data()) + sizeof header,
                  header.nent * sizeof(kvm_cpuid_entry2));
    return entries;
  }
  return Error::invalid("KVM_GET_SUPPORTED_CPUID wants more than " +
                        std::to_string(kMaxCpuidCapacity) + " entries");
}

Result<KvmVm> KvmSystem::create_vm() const {
  // Type 0: the default x86 VM.
  UniqueFd vm(::ioctl(fd_.get(), KVM_CREATE_VM, 0));
  if (!vm) return Error::from_errno("KVM_CREATE_VM");
  return KvmVm(std::move(vm), vcpu_mmap_size_);
}

}  // namespace podrt::vmm
