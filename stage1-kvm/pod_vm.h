// From a prepared pod to the VM that runs it: the guest config guest-init receives (the same
// supervisor plan stage1-ns builds, with roots inside the guest), the disks and 9p shares the
// hypervisor attaches, and the VM's size from the pod's isolators.
#pragma once

#include <string>
#include <vector>

#include "common/guest_protocol/guest_config.h"
#include "stage1-kvm/hypervisor.h"
#include "stage1-ns/loaded_pod.h"
#include "stage1-ns/network/pod_network.h"
#include "stage1-ns/rootfs/app_rootfs.h"
#include "stage1-ns/run_options.h"

namespace podrt::stage1_kvm {

/// The VM's memory when no app asks for a limit, and what the guest kernel and guest-init
/// need beside the apps' limits when they do.
inline constexpr uint64_t kDefaultMemoryMib = 128;
inline constexpr uint64_t kGuestOverheadMib = 64;

struct PodVm {
  guest_protocol::GuestConfig config;
  std::vector<VmDisk> disks;
  std::vector<VmShare> shares;
  uint64_t memory_mib = kDefaultMemoryMib;
  unsigned vcpus = 1;
};

/// `etc_binds` are what write_etc_files returned (their contents go into the config);
/// `guest_mtu` is the pod veth's. Makes each image's erofs disk if it is not made yet.
Result<PodVm> plan_pod_vm(const stage1::LoadedPod& pod, const stage1::RunOptions& options,
                          const stage1::network::PodNetwork& network,
                          const std::vector<stage1::rootfs::BindSpec>& etc_binds, unsigned guest_mtu);

/// The VM size for apps with these limits: memory in MiB and vCPUs (at most `host_cpus`).
uint64_t vm_memory_mib(const std::vector<guest_protocol::GuestApp>& apps);
unsigned vm_vcpus(const std::vector<guest_protocol::GuestApp>& apps, unsigned host_cpus);

}  // namespace podrt::stage1_kvm
