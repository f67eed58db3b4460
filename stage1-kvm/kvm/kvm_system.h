// KvmSystem: the open /dev/kvm. open() refuses a KVM whose API version is not 12 or that lacks a
// capability the VMM needs (kvm_capabilities.h), so later ioctls fail only for real reasons.
#pragma once

#include <linux/kvm.h>

#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"
#include "stage1-kvm/kvm/kvm_vm.h"

namespace podrt::vmm {

class KvmSystem {
 public:
  static Result<KvmSystem> open(const std::string& path = "/dev/kvm");

  /// KVM_CHECK_EXTENSION: 0 when absent, else 1 or a capability-specific number.
  int check_extension(int capability) const;
  /// The CPUID leaves KVM can give a guest on this host (KVM_GET_SUPPORTED_CPUID).
  Result<std::vector<kvm_cpuid_entry2>> supported_cpuid() const;
  /// Size of each vCPU's kvm_run mapping.
  int vcpu_mmap_size() const { return vcpu_mmap_size_; }
  /// The most vCPUs one VM may have (KVM_CAP_MAX_VCPUS).
  uint32_t max_vcpus() const;

  Result<KvmVm> create_vm() const;

 private:
  KvmSystem(UniqueFd fd, int vcpu_mmap_size) : fd_(std::move(fd)), vcpu_mmap_size_(vcpu_mmap_size) {}
  UniqueFd fd_;
  int vcpu_mmap_size_ = 0;
};

}  // namespace podrt::vmm
