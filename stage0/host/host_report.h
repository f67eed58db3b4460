// Host report: what this machine offers podrt (KVM, cgroups, overlayfs, user namespaces,
// seccomp, QEMU, CNI plugins), as `podrt info` shows it and `--hypervisor=auto` will read it.
// See design.md "Host capability" for why a nested PVM /dev/kvm is told apart from hardware.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace podrt::host {

/// Where the probes look. Tests point these at a fake tree in a temporary directory.
struct HostPaths {
  std::string proc = "/proc";
  std::string sys = "/sys";
  std::string dev = "/dev";
  /// The value of PATH used to find QEMU (empty: QEMU is not looked for).
  std::string search_path;
  /// The value of CNI_PATH (a ':'-separated list); empty when unset.
  std::string cni_path;
  /// Default CNI plugin directories, tried in order after CNI_PATH.
  std::vector<std::string> cni_dirs = {"/usr/lib/cni", "/opt/cni/bin"};

  /// The real host: "/proc", "/sys", "/dev", with PATH and CNI_PATH from the environment.
  static HostPaths from_environment();
};

/// What kind of KVM this host has.
enum class KvmKind {
  /// vmx or svm in the CPU flags and /dev/kvm can be opened: the builtin VMM works.
  Hardware,
  /// /dev/kvm comes from the kvm_pvm module (a nested PVM hypervisor): Linux guests cannot boot.
  NestedPvm,
  /// /dev/kvm exists but cannot be used (not openable, or no virtualization CPU flag).
  Unusable,
  /// No /dev/kvm at all.
  None,
};

/// The state of /dev/kvm as seen by this process.
enum class DevKvm { Missing, NotOpenable, Openable };

/// A KVM classification with a one-line human reason.
struct KvmReport {
  KvmKind kind = KvmKind::None;
  std::string detail;
};

/// cgroup hierarchy layout (systemd's naming).
enum class CgroupMode {
  /// Only cgroup2 at /sys/fs/cgroup.
  V2,
  /// v1 controllers mounted plus a cgroup2 mount at /sys/fs/cgroup/unified.
  Hybrid,
  /// v1 controllers only.
  V1,
  /// Neither v1 nor v2 mounted.
  None,
};

/// Which cgroup file systems are mounted where it matters.
struct CgroupMounts {
  bool root_is_cgroup2 = false;
  bool unified_is_cgroup2 = false;
  bool v1_mounted = false;
};

/// The cgroup part of the report.
struct CgroupReport {
  CgroupMode mode = CgroupMode::None;
  /// v2: cgroup.controllers of the root; v1 and hybrid: the enabled v1 controllers in
  /// /proc/cgroups (in hybrid mode, less those bound to the unified hierarchy).
  std::vector<std::string> controllers;
  /// Hybrid only: the controllers bound to the unified (cgroup2) hierarchy.
  std::vector<std::string> unified_controllers;
};

/// User namespace support.
struct UserNamespaceReport {
  bool available = false;
  std::optional<long> max_user_namespaces;
  /// Debian's /proc/sys/kernel/unprivileged_userns_clone, when the kernel has it.
  std::optional<long> unprivileged_userns_clone;
};

/// seccomp support (from the Seccomp line of /proc/self/status).
struct SeccompReport {
  bool available = false;
  /// This process's mode: 0 disabled, 1 strict, 2 filter.
  std::optional<int> mode;
};

/// QEMU as stage1-kvm's fallback hypervisor.
struct QemuReport {
  std::optional<std::string> path;
  std::optional<std::string> version;
};

/// CNI plugins stage1-ns can use for networking.
struct CniReport {
  std::optional<std::string> plugin_dir;
  std::vector<std::string> present;
  std::vector<std::string> missing;
};

/// What `podrt run --stage1=kvm` would use here.
struct KvmPodReport {
  std::string guest_kernel;       ///< where stage1-kvm looks for it
  bool guest_kernel_built = false;
  std::string hypervisor;         ///< --hypervisor=auto's pick: "qemu with TCG ...", or why none
};

/// Everything `podrt info` reports.
struct HostReport {
  KvmReport kvm;
  CgroupReport cgroup;
  bool overlayfs = false;
  UserNamespaceReport user_namespaces;
  SeccompReport seccomp;
  QemuReport qemu;
  KvmPodReport kvm_pods;
  CniReport cni;
  std::string data_dir;
  bool data_dir_exists = false;
};

/// The CNI plugins podrt looks for, in report order.
inline constexpr std::string_view kCniPlugins[] = {"bridge",   "ptp",      "host-local", "portmap",
                                                   "loopback", "firewall", "tuning"};

/// Classifies KVM from /proc/cpuinfo text, the state of /dev/kvm and whether kvm_pvm is loaded.
KvmReport classify_kvm(std::string_view cpuinfo, DevKvm dev_kvm, bool kvm_pvm_loaded);
/// Reads the cgroup mounts from /proc/self/mounts text.
CgroupMounts parse_cgroup_mounts(std::string_view proc_mounts);
/// Classifies the cgroup layout from what is mounted.
CgroupMode classify_cgroups(const CgroupMounts& mounts);
/// The enabled controllers listed in /proc/cgroups, in file order.
std::vector<std::string> parse_proc_cgroups(std::string_view proc_cgroups);
/// Splits a cgroup.controllers file into names.
std::vector<std::string> parse_cgroup_controllers(std::string_view text);
/// True when /proc/filesystems text lists overlay.
bool filesystems_list_overlay(std::string_view proc_filesystems);

/// Each probe on its own; none fails: what cannot be read counts as absent.
KvmReport probe_kvm(const HostPaths& paths);
CgroupReport probe_cgroups(const HostPaths& paths);
bool probe_overlayfs(const HostPaths& paths);
UserNamespaceReport probe_user_namespaces(const HostPaths& paths);
SeccompReport probe_seccomp(const HostPaths& paths);
/// Finds qemu-system-x86_64 in paths.search_path and runs it with --version.
QemuReport probe_qemu(const HostPaths& paths);
CniReport probe_cni(const HostPaths& paths);

/// Runs every probe. `data_dir` is podrt's --dir.
HostReport probe_host(const HostPaths& paths, const std::string& data_dir);

/// Stable names used in both outputs: "hardware", "nested-pvm", "unusable", "none".
std::string_view kvm_kind_name(KvmKind kind);
/// "v2", "hybrid", "v1", "none".
std::string_view cgroup_mode_name(CgroupMode mode);

/// Aligned "key: value" lines for people.
std::string format_text(const HostReport& report);
/// One JSON object with snake_case keys, newline-terminated.
std::string format_json(const HostReport& report);

}  // namespace podrt::host
