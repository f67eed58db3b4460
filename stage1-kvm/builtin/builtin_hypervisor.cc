#include "stage1-kvm/builtin/builtin_hypervisor.h"

#include <unistd.h>

#include "common/sys/file.h"
#include "stage1-kvm/hypervisor_process.h"

namespace podrt::stage1_kvm {

Result<std::string> find_builtin_vmm() {
  std::string path = sys::own_directory() + "/podrt-vmm";
  if (::access(path.c_str(), X_OK) != 0)
    return Error::from_errno("no builtin VMM at " + path + " (build it with `make build`)");
  return path;
}

Result<std::vector<std::string>> builtin_vmm_arguments(const VmSpec& spec, const std::string& vmm_binary) {
  if (!spec.shares.empty())
    return Error::invalid("--hypervisor=builtin has no 9p file sharing, which this pod's host volume " +
                          spec.shares[0].tag + " needs: use --hypervisor=qemu");
  if (spec.acceleration != Acceleration::kKvm)
    return Error::invalid("--hypervisor=builtin runs guests on KVM only (no software emulation): "
                          "use --hypervisor=qemu");
  // retain_initrd: the guest keeps the initrd's pages instead of freeing them, which poisons
  // them (a write each). podrt-vmm maps the initrd from its file copy-on-write, so kept and
  // unwritten they stay page-cache pages shared by every pod: ~1.4 MiB less host memory per
  // pod for ~1.4 MiB of guest RAM.
  std::vector<std::string> argv = {vmm_binary,
                                   "--name", spec.name,
                                   "--kernel", spec.kernel,
                                   "--initrd", spec.initramfs,
                                   "--cmdline", spec.command_line + " retain_initrd",
                                   "--memory", std::to_string(spec.memory_mib),
                                   "--vcpus", std::to_string(spec.vcpus),
                                   "--control-fd", std::to_string(spec.control_fd),
                                   "--console-fd", std::to_string(spec.console_fd)};
  // Disks in order: the guest probes virtio-mmio devices in command-line order (vda, vdb, ...).
  for (const VmDisk& disk : spec.disks) argv.insert(argv.end(), {"--disk", disk.path});
  for (const VmNic& nic : spec.nics)
    argv.insert(argv.end(), {"--net", std::to_string(nic.tap_fd) + "," + nic.mac});
  return argv;
}

Result<std::unique_ptr<RunningVm>> BuiltinHypervisor::start(const VmSpec& spec) {
  return start_hypervisor_process(PODRT_TRY(builtin_vmm_arguments(spec, binary_)), spec);
}

}  // namespace podrt::stage1_kvm
