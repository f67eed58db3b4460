// The QEMU backend: `qemu-system-x86_64 -M microvm` booting the guest kernel directly (PVH),
// virtio-mmio devices announced on the kernel command line, KVM where the host has hardware
// virtualization and TCG elsewhere.
#pragma once

#include <string>
#include <vector>

#include "stage1-kvm/hypervisor.h"

namespace podrt::stage1_kvm {

/// qemu-system-x86_64 on PATH, or an error that says how to install it.
Result<std::string> find_qemu();

/// The whole argv for `spec` (argv[0] = qemu_binary). The fds in the spec are passed by
/// number: the child keeps them open across exec.
std::vector<std::string> qemu_arguments(const VmSpec& spec, const std::string& qemu_binary);

class QemuHypervisor final : public Hypervisor {
 public:
  explicit QemuHypervisor(std::string binary) : binary_(std::move(binary)) {}
  std::string name() const override { return "qemu"; }
  Result<std::unique_ptr<RunningVm>> start(const VmSpec& spec) override;

 private:
  std::string binary_;
};

}  // namespace podrt::stage1_kvm
