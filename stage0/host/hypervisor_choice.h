// Which hypervisor a kvm pod runs under, and why: `--hypervisor=auto` picks from what the host
// can do (design.md, "Host capability"); an explicit choice the host cannot honour is refused
// with one line that says what to use instead.
#pragma once

#include <string>
#include <string_view>

#include "common/result.h"
#include "stage0/host/host_report.h"

namespace podrt::host {

struct HypervisorChoice {
  std::string hypervisor;    ///< "builtin" or "qemu" (later "libvirt")
  std::string acceleration;  ///< "kvm" or "tcg"
  std::string reason;        ///< one line for people: what was picked and why
};

/// What of the pod itself bears on the choice.
struct PodNeeds {
  /// Host volumes reach a kvm pod over 9p, which only QEMU serves: auto picks QEMU for them.
  bool host_volumes = false;
};

/// `requested`: auto, qemu, builtin or libvirt.
Result<HypervisorChoice> choose_hypervisor(std::string_view requested, const KvmReport& kvm,
                                           bool qemu_installed, PodNeeds pod = {});

}  // namespace podrt::host
