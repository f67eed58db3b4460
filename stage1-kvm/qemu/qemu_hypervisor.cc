#include "stage1-kvm/qemu/qemu_hypervisor.h"

#include <unistd.h>

#include <cstdlib>

#include "stage1-kvm/hypervisor_process.h"

namespace podrt::stage1_kvm {
namespace {

/// QEMU's -drive/-fsdev option values are comma-separated: a comma in a path is doubled.
std::string escape_option(const std::string& value) {
  std::string escaped;
  for (char c : value) {
    escaped += c;
    if (c == ',') escaped += ',';
  }
  return escaped;
}

}  // namespace

Result<std::string> find_qemu() {
  const char* path = std::getenv("PATH");
  std::string search = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= search.size()) {
    size_t end = search.find(':', start);
    if (end == std::string::npos) end = search.size();
    std::string candidate = search.substr(start, end - start) + "/qemu-system-x86_64";
    if (end > start && ::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return Error::invalid("QEMU is not installed (qemu-system-x86_64 is not on PATH): "
                        "apt-get install qemu-system-x86");
}

std::vector<std::string> qemu_arguments(const VmSpec& spec, const std::string& qemu_binary) {
  bool kvm = spec.acceleration == Acceleration::kKvm;
  std::vector<std::string> argv = {
      qemu_binary, "-name", spec.name,
      // microvm: no PCI, no firmware, no ACPI; QEMU appends the virtio-mmio devices to the
      // kernel command line (virtio_mmio.device=...). The RTC stays: without a CMOS clock the
      // guest kernel spends about a second looking for one at boot (measured under TCG).
      "-M", "microvm,acpi=off,x-option-roms=off",
      "-accel", kvm ? "kvm" : "tcg",
      "-cpu", kvm ? "host" : "max",
      "-m", std::to_string(spec.memory_mib),
      "-smp", std::to_string(spec.vcpus),
      "-nodefaults", "-no-user-config", "-nographic", "-display", "none",
      // The guest ends the pod by rebooting (reboot=t): QEMU exits instead of restarting it.
      "-no-reboot",
      "-kernel", spec.kernel, "-initrd", spec.initramfs, "-append", spec.command_line,
      "-chardev", "socket,id=console,fd=" + std::to_string(spec.console_fd),
      "-serial", "chardev:console"};
  // Disks first: the guest names block devices in the order it probes them (vda, vdb, ...).
  for (size_t i = 0; i < spec.disks.size(); ++i) {
    std::string id = "disk" + std::to_string(i);
    argv.insert(argv.end(), {"-drive", "id=" + id + ",file=" + escape_option(spec.disks[i].path) +
                                           ",format=raw,if=none,readonly=on,cache=none,aio=threads",
                             "-device", "virtio-blk-device,drive=" + id});
  }
  // The control channel: a named virtio-serial port (not a virtconsole, which QEMU 7.2 lets
  // drop bytes when the host reads slower than the guest writes; a port applies backpressure).
  argv.insert(argv.end(), {"-device", "virtio-serial-device,max_ports=2", "-chardev",
                           "socket,id=control,fd=" + std::to_string(spec.control_fd), "-device",
                           "virtserialport,chardev=control,name=podrt.control"});
  for (size_t i = 0; i < spec.shares.size(); ++i) {
    const VmShare& share = spec.shares[i];
    std::string id = "share" + std::to_string(i);
    argv.insert(argv.end(),
                {"-fsdev", "local,id=" + id + ",path=" + escape_option(share.path) +
                               ",security_model=passthrough" + (share.read_only ? ",readonly=on" : ""),
                 "-device", "virtio-9p-device,fsdev=" + id + ",mount_tag=" + share.tag});
  }
  for (size_t i = 0; i < spec.nics.size(); ++i) {
    std::string id = "net" + std::to_string(i);
    argv.insert(argv.end(), {"-netdev", "tap,id=" + id + ",fd=" + std::to_string(spec.nics[i].tap_fd),
                             "-device", "virtio-net-device,netdev=" + id + ",mac=" + spec.nics[i].mac});
  }
  return argv;
}

Result<std::unique_ptr<RunningVm>> QemuHypervisor::start(const VmSpec& spec) {
  std::vector<std::string> argv = qemu_arguments(spec, binary_);
  return start_hypervisor_process(argv, spec);
}

}  // namespace podrt::stage1_kvm
