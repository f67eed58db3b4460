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

/// `requested`: auto, qemu, builtin or libvirt.
Result<HypervisorChoice> choose_hypervisor(std::string_view requested, const KvmReport& kvm,
                                           bool qemu_installed);

}  // namespace podrt::host
