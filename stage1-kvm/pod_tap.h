// The guest's way into the pod's network: a tap device in the pod's network namespace whose
// traffic is mirrored to and from the CNI veth by tc (as Kata Containers does), so the guest
// owns the pod's address while CNI, portmap and gc see the same veth as for a stage1-ns pod.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::stage1_kvm {

struct PodTap {
  UniqueFd fd;          ///< the tap's queue: the hypervisor's end of the guest NIC
  std::string mac;      ///< the veth's MAC ("aa:bb:..."), for the guest NIC
  unsigned mtu = 1500;  ///< the veth's MTU
};

/// Creates `tap_name` in the namespace at `netns_path`, brings it up and redirects every
/// frame between it and `veth` both ways. The tap disappears with its last fd (or with the
/// namespace), so a killed stage1 leaks nothing.
Result<PodTap> create_pod_tap(const std::string& netns_path, const std::string& veth,
                              const std::string& tap_name = "tap0");

}  // namespace podrt::stage1_kvm
