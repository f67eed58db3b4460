#include "stage1-kvm/vmm/vmm_options.h"

#include <fcntl.h>

#include <CLI/CLI.hpp>
#include <iostream>

#include "stage1-kvm/x86/layout.h"
#include "stage1-kvm/x86/mptable.h"

namespace podrt::vmm {
namespace {

Result<NetOption> parse_net(const std::string& text) {
  size_t comma = text.find(',');
  if (comma == std::string::npos) return Error::invalid("--net " + text + ": expected TAPFD,MAC");
  NetOption net;
  try {
    size_t used = 0;
    net.tap_fd = std::stoi(text.substr(0, comma), &used);
    if (used != comma) throw std::invalid_argument("trailing characters");
  } catch (const std::exception&) {
    return Error::invalid("--net " + text + ": the tap fd is not a number");
  }
  net.mac = text.substr(comma + 1);
  return net;
}

Result<void> check_fd(int fd, const std::string& flag) {
  if (fd < 0) return ok();
  if (fd <= 2) return Error::invalid(flag + " " + std::to_string(fd) + ": stdin, stdout and stderr are not VM fds");
  if (::fcntl(fd, F_GETFD) < 0) return Error::from_errno(flag + " " + std::to_string(fd) + " is not an open fd");
  return ok();
}

}  // namespace

Result<std::optional<VmmOptions>> parse_vmm_options(int argc, char** argv) {
  VmmOptions options;
  std::vector<std::string> nets;
  CLI::App app{"podrt's virtual machine monitor: boots a Linux kernel on KVM (run by podrt-stage1-kvm)",
               "podrt-vmm"};
  app.add_option("--name", options.name, "Shown in ps and messages");
  app.add_option("--kernel", options.kernel, "ELF vmlinux or bzImage (64-bit boot protocol)")->required();
  app.add_option("--initrd", options.initrd, "Initramfs");
  app.add_option("--cmdline", options.command_line, "Kernel command line");
  app.add_option("--memory", options.memory_mib, "Guest memory in MiB");
  app.add_option("--vcpus", options.vcpus, "Number of vCPUs");
  app.add_option("--disk", options.disks, "Read-only virtio-blk image (repeat: vda, vdb, ...)");
  app.add_option("--net", nets, "virtio-net on an open tap fd: TAPFD,MAC (repeat)");
  app.add_option("--control-fd", options.control_fd, "Stream socket behind virtio-console port podrt.control");
  app.add_option("--console-fd", options.console_fd, "fd for the serial console (default: stderr)");
  app.add_flag("--report-times", options.report_times, "Print setup and guest-init times on stderr");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp&) {
    std::cout << app.help();
    return std::optional<VmmOptions>();
  } catch (const CLI::ParseError& error) {
    return Error::invalid(error.what());
  }
  for (const std::string& text : nets) options.nets.push_back(PODRT_TRY(parse_net(text)));
  return std::optional<VmmOptions>(std::move(options));
}

Result<void> validate_vmm_options(const VmmOptions& options) {
  uint64_t max_mib = layout::kMaxMemory >> 20, min_mib = layout::kMinMemory >> 20;
  if (options.memory_mib < min_mib || options.memory_mib > max_mib)
    return Error::invalid("--memory " + std::to_string(options.memory_mib) + ": must be " +
                          std::to_string(min_mib) + ".." + std::to_string(max_mib) + " MiB");
  if (options.vcpus < 1 || options.vcpus > max_mptable_vcpus())
    return Error::invalid("--vcpus " + std::to_string(options.vcpus) + ": must be 1.." +
                          std::to_string(max_mptable_vcpus()));
  // Serial console, control channel, then disks and nics: each virtio device takes one slot.
  size_t virtio_devices = options.disks.size() + options.nets.size() + (options.control_fd >= 0 ? 1 : 0);
  if (virtio_devices > layout::kMaxVirtioDevices)
    return Error::invalid(std::to_string(virtio_devices) + " virtio devices asked for; at most " +
                          std::to_string(layout::kMaxVirtioDevices));
  PODRT_TRY(check_fd(options.control_fd, "--control-fd"));
  PODRT_TRY(check_fd(options.console_fd, "--console-fd"));
  for (const NetOption& net : options.nets) PODRT_TRY(check_fd(net.tap_fd, "--net"));
  return ok();
}

}  // namespace podrt::vmm
