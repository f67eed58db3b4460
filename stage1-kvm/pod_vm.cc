#include "stage1-kvm/pod_vm.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include "common/sys/file.h"
#include "stage1-kvm/rootfs_disk.h"
#include "stage1-ns/app_plan.h"

namespace podrt::stage1_kvm {
namespace {

using guest_protocol::GuestApp;
using guest_protocol::GuestMount;
using guest_protocol::GuestVolume;

constexpr const char* kStatusInGuest = "/podrt/status";

/// The guest's block devices in probe order: vda, vdb, ... (one per app).
Result<std::string> disk_name(size_t index) {
  if (index >= 26) return Error::invalid("a kvm pod has at most 26 apps (one disk each)");
  return std::string("/dev/vd") + static_cast<char>('a' + index);
}

Result<void> add_volume(const stage1::LoadedPod& pod, const stage1::rootfs::BindSpec& bind,
                        PodVm& vm) {
  for (const GuestVolume& known : vm.config.volumes)
    if (known.name == bind.volume) return ok();
  const appc::Volume* volume = pod.manifest.volume(bind.volume);
  if (volume == nullptr) return Error::invalid("no volume " + bind.volume);
  GuestVolume guest;
  guest.name = volume->name;
  guest.read_only = volume->read_only.value_or(false);
  if (volume->kind == "host") {
    struct stat st;
    if (::stat(volume->source.c_str(), &st) != 0)
      return Error::from_errno("volume " + volume->name + ": source " + volume->source);
    if (!S_ISDIR(st.st_mode))
      return Error::invalid("volume " + volume->name + ": source " + volume->source +
                            " is not a directory (a kvm pod shares host volumes over 9p, "
                            "which exports directories only)");
    guest.kind = GuestVolume::Kind::kHost;
    guest.tag = "volume" + std::to_string(vm.shares.size());
    vm.shares.push_back({guest.tag, volume->source, guest.read_only});
  } else {
    guest.kind = GuestVolume::Kind::kEmpty;
    guest.mode = static_cast<uint32_t>(std::stoul(volume->mode.value_or("0755"), nullptr, 8));
    guest.uid = volume->uid.value_or(0);
    guest.gid = volume->gid.value_or(0);
  }
  vm.config.volumes.push_back(std::move(guest));
  return ok();
}

Result<std::string> bound_file(const std::vector<stage1::rootfs::BindSpec>& binds,
                               const std::string& target) {
  for (const stage1::rootfs::BindSpec& bind : binds)
    if (bind.target == target) return sys::read_file(bind.source);
  return std::string();
}

uint32_t prefix_length(const std::string& subnet) {
  size_t slash = subnet.find('/');
  if (slash == std::string::npos) return 24;
  unsigned long length = std::strtoul(subnet.c_str() + slash + 1, nullptr, 10);
  return length <= 32 ? static_cast<uint32_t>(length) : 24;
}

}  // namespace

uint64_t vm_memory_mib(const std::vector<GuestApp>& apps) {
  uint64_t limits = 0;
  bool any = false;
  for (const GuestApp& app : apps)
    if (app.memory_bytes) {
      limits += (*app.memory_bytes + (1 << 20) - 1) >> 20;
      any = true;
    }
  return any ? std::max(kDefaultMemoryMib, limits + kGuestOverheadMib) : kDefaultMemoryMib;
}

unsigned vm_vcpus(const std::vector<GuestApp>& apps, unsigned host_cpus) {
  uint64_t most = 1000;
  for (const GuestApp& app : apps)
    if (app.cpu_millicores) most = std::max(most, *app.cpu_millicores);
  auto vcpus = static_cast<unsigned>((most + 999) / 1000);
  return std::clamp(vcpus, 1u, std::max(1u, host_cpus));
}

Result<PodVm> plan_pod_vm(const stage1::LoadedPod& pod, const stage1::RunOptions& options,
                          const stage1::network::PodNetwork& network,
                          const std::vector<stage1::rootfs::BindSpec>& etc_binds, unsigned guest_mtu) {
  PodVm vm;
  guest_protocol::GuestConfig& config = vm.config;
  config.plan.status_dir = kStatusInGuest;
  for (size_t i = 0; i < pod.apps.size(); ++i) {
    const stage1::LoadedApp& app = pod.apps[i];
    const std::string& name = app.pod_app.name;
    stage1::AppPlan app_plan = PODRT_TRY(
        stage1::plan_app(pod, app, options, guest_protocol::app_root_in_guest(name), ""));
    GuestApp guest;
    guest.name = name;
    guest.disk = PODRT_TRY(disk_name(i));
    guest.read_only_root = app.pod_app.read_only_root_fs;
    guest.memory_bytes = app_plan.limits.memory_bytes;
    guest.cpu_shares = app_plan.limits.cpu_shares;
    guest.cpu_millicores = app_plan.limits.cpu_millicores;
    guest.pids_max = app_plan.limits.pids_max;
    for (const stage1::rootfs::BindSpec& bind : app_plan.volume_binds) {
      PODRT_TRY_CONTEXT(add_volume(pod, bind, vm), "app " + name);
      guest.mounts.push_back({bind.volume, bind.target, bind.read_only});
    }
    vm.disks.push_back({PODRT_TRY(ensure_rootfs_disk(app.render))});
    config.apps.push_back(std::move(guest));
    config.plan.apps.push_back(std::move(app_plan.spec));
  }
  config.hostname = options.hostname.empty() ? "podrt-" + pod.uuid : options.hostname;
  config.etc_hosts = PODRT_TRY(bound_file(etc_binds, "/etc/hosts"));
  config.etc_resolv_conf = PODRT_TRY(bound_file(etc_binds, "/etc/resolv.conf"));
  if (network.attachments.size() > 1)
    return Error::invalid("a kvm pod joins one network, not " +
                          std::to_string(network.attachments.size()));
  if (!network.attachments.empty()) {
    const stage1::network::NetworkAttachment& attachment = network.attachments[0];
    // podrt's own networks are CNI ptp: routed through the host, no neighbour on the link.
    bool ptp = attachment.network == "default" || attachment.network == "default-restricted";
    config.network = guest_protocol::GuestNetwork{attachment.ip, prefix_length(attachment.subnet),
                                                  attachment.gateway, guest_mtu, ptp};
  }
  config.harden_paths = !options.disable_paths;
  config.interactive = options.interactive;
  vm.memory_mib = vm_memory_mib(config.apps);
  long cpus = ::sysconf(_SC_NPROCESSORS_ONLN);
  vm.vcpus = vm_vcpus(config.apps, cpus > 0 ? static_cast<unsigned>(cpus) : 1);
  return vm;
}

}  // namespace podrt::stage1_kvm
