// The hypervisor interface of stage1-kvm: what a VM for a pod is made of (VmSpec) and a running
// VM (RunningVm). QEMU implements it today (qemu/); the builtin VMM and libvirt plug in behind
// the same interface. Every backend gets the same guest kernel, initramfs and control channel.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::stage1_kvm {

/// A read-only disk: an app's root filesystem image. The guest sees them as /dev/vda, vdb, ...
/// in this order.
struct VmDisk {
  std::string path;
};

/// A host directory shared over virtio-9p under `tag` (a kind=host volume).
struct VmShare {
  std::string tag;
  std::string path;
  bool read_only = false;
};

/// The guest's network interface: a tap fd (opened in the pod's network namespace) and the MAC
/// the guest uses (the pod veth's, so that the peer's neighbour entries stay right).
struct VmNic {
  int tap_fd = -1;
  std::string mac;
};

/// How the hypervisor executes guest code.
enum class Acceleration { kKvm, kTcg };

struct VmSpec {
  std::string name;            ///< "podrt-<uuid>": visible in ps and to libvirt
  std::string kernel;          ///< uncompressed vmlinux
  std::string initramfs;       ///< newc cpio with guest-init as /init
  std::string command_line;    ///< the kernel's
  uint64_t memory_mib = 128;
  unsigned vcpus = 1;
  Acceleration acceleration = Acceleration::kTcg;
  std::vector<VmDisk> disks;
  std::vector<VmShare> shares;
  std::vector<VmNic> nics;
  int control_fd = -1;         ///< a connected stream socket: the guest's /dev/hvc0
  int console_fd = -1;         ///< a connected stream socket: the guest's serial console
  int stderr_fd = -1;          ///< where the hypervisor's own messages go
};

/// A started VM. Destroying it kills the VM if it still runs (a stage1 error path never leaves
/// a hypervisor behind).
class RunningVm {
 public:
  virtual ~RunningVm() = default;
  /// The process that holds the VM (what `podrt stop --force` kills).
  virtual pid_t pid() const = 0;
  /// Non-blocking: has it ended? Fills the exit code (of the hypervisor process) when it has.
  virtual bool poll_exit(int& status) = 0;
  /// Ends the VM at once.
  virtual void kill() = 0;
};

class Hypervisor {
 public:
  virtual ~Hypervisor() = default;
  virtual std::string name() const = 0;
  virtual Result<std::unique_ptr<RunningVm>> start(const VmSpec& spec) = 0;
};

}  // namespace podrt::stage1_kvm
