#include "stage0/host/hypervisor_choice.h"

namespace podrt::host {
namespace {

std::string why_no_kvm(const KvmReport& kvm) {
  switch (kvm.kind) {
    case KvmKind::NestedPvm:
      return "/dev/kvm here is a nested PVM hypervisor, which cannot boot Linux guests";
    case KvmKind::Unusable:
      return "/dev/kvm cannot be used here (" + kvm.detail + ")";
    case KvmKind::None:
      return "this host has no /dev/kvm";
    case KvmKind::Hardware:
      break;
  }
  return "";
}

}  // namespace

Result<HypervisorChoice> choose_hypervisor(std::string_view requested, const KvmReport& kvm,
                                           bool qemu_installed, PodNeeds pod) {
  bool hardware = kvm.kind == KvmKind::Hardware;
  // auto does not pick what would then refuse the pod (builtin_hypervisor.cc refuses shares).
  bool builtin_can_run_pod = !pod.host_volumes || !qemu_installed;
  if (requested == "libvirt")
    return Error::invalid("--hypervisor=libvirt is not available yet; use --hypervisor=qemu (or auto)");
  if (requested != "auto" && requested != "qemu" && requested != "builtin")
    return Error::invalid("--hypervisor=" + std::string(requested) +
                          ": unknown hypervisor (auto, qemu, builtin or libvirt)");
  HypervisorChoice choice;
  if (requested == "builtin" || (requested == "auto" && hardware && builtin_can_run_pod)) {
    // podrt's own VMM runs guests on KVM only: no software emulation to fall back on.
    if (!hardware)
      return Error::invalid("--hypervisor=builtin needs hardware virtualization, but " + why_no_kvm(kvm) +
                            ": use --hypervisor=qemu (or auto), which emulates the guest with TCG");
    choice.hypervisor = "builtin";
    choice.acceleration = "kvm";
    choice.reason = "builtin (podrt's own VMM): this host has hardware virtualization";
    return choice;
  }
  if (!qemu_installed)
    return Error::invalid("--stage1=kvm needs QEMU, which is not installed: apt-get install "
                          "qemu-system-x86");
  choice.hypervisor = "qemu";
  choice.acceleration = hardware ? "kvm" : "tcg";
  if (!hardware)
    choice.reason = "qemu with TCG (software emulation): " + why_no_kvm(kvm);
  else if (requested == "auto")
    choice.reason = "qemu with KVM: the pod has host volumes, which the builtin VMM cannot share (no 9p)";
  else
    choice.reason = "qemu with KVM: this host has hardware virtualization";
  return choice;
}

}  // namespace podrt::host
