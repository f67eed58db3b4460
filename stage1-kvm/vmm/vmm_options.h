// What podrt-vmm is asked to run: its command line, parsed and checked before anything is built.
// stage1-kvm's builtin backend writes it (builtin/builtin_hypervisor.cc); people can too:
//
//   podrt-vmm --kernel vmlinux [--initrd initramfs] [--cmdline "console=ttyS0 ..."]
//             [--memory MIB] [--vcpus N] [--disk IMAGE]... [--net TAPFD,MAC]...
//             [--control-fd FD] [--console-fd FD] [--name NAME] [--report-times]
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"

namespace podrt::vmm {

struct NetOption {
  int tap_fd = -1;
  std::string mac;
};

struct VmmOptions {
  std::string name = "podrt-vmm";
  std::string kernel;          ///< ELF vmlinux or bzImage
  std::string initrd;          ///< optional
  std::string command_line;    ///< the VMM appends the virtio_mmio.device= entries
  uint64_t memory_mib = 128;
  uint32_t vcpus = 1;
  std::vector<std::string> disks;  ///< read-only virtio-blk, in order
  std::vector<NetOption> nets;
  int control_fd = -1;         ///< a stream socket: virtio-console port "podrt.control"
  int console_fd = -1;         ///< a stream socket (or any fd): the 8250 serial console; -1: stderr
  bool report_times = false;   ///< print setup and boot-timer times on stderr
};

/// Parses argv. nullopt: --help was asked for and the usage is printed on stdout.
Result<std::optional<VmmOptions>> parse_vmm_options(int argc, char** argv);

/// Checks what can be checked without building anything: sizes, counts, fds, MACs.
Result<void> validate_vmm_options(const VmmOptions& options);

}  // namespace podrt::vmm
