// The builtin backend: podrt's own VMM (podrt-vmm, stage1-kvm/vmm/) booting the guest kernel on
// KVM, started as a child process as QEMU is. It needs hardware virtualization (stage0's
// hypervisor choice checks) and offers no 9p: pods with host volumes need --hypervisor=qemu.
#pragma once

#include <string>
#include <vector>

#include "stage1-kvm/hypervisor.h"

namespace podrt::stage1_kvm {

/// podrt-vmm beside this program, or an error saying how to build it.
Result<std::string> find_builtin_vmm();

/// The whole argv for `spec` (argv[0] = vmm_binary); fds are passed by number. Fails for what
/// podrt-vmm cannot do (9p shares, TCG).
Result<std::vector<std::string>> builtin_vmm_arguments(const VmSpec& spec, const std::string& vmm_binary);

class BuiltinHypervisor final : public Hypervisor {
 public:
  explicit BuiltinHypervisor(std::string binary) : binary_(std::move(binary)) {}
  std::string name() const override { return "builtin"; }
  Result<std::unique_ptr<RunningVm>> start(const VmSpec& spec) override;

 private:
  std::string binary_;
};

}  // namespace podrt::stage1_kvm
