// Text and JSON renderings of a HostReport (the two `podrt info --format` values).
#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>

#include "stage0/host/host_report.h"

namespace podrt::host {
namespace {

std::string join(const std::vector<std::string>& words, std::string_view separator) {
  std::string joined;
  for (const std::string& word : words) {
    if (!joined.empty()) joined += separator;
    joined += word;
  }
  return joined;
}

template <class T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

std::string cgroup_text(const CgroupReport& cgroup) {
  std::string text(cgroup_mode_name(cgroup.mode));
  if (cgroup.mode == CgroupMode::None) return text + " (no cgroup file system mounted)";
  text += " (controllers: " + (cgroup.controllers.empty() ? "none" : join(cgroup.controllers, " "));
  if (cgroup.mode == CgroupMode::Hybrid) {
    text += "; unified: " +
            (cgroup.unified_controllers.empty() ? "none" : join(cgroup.unified_controllers, " "));
  }
  return text + ")";
}

std::string user_namespaces_text(const UserNamespaceReport& userns) {
  std::string text = userns.available ? "yes" : "no";
  text += " (max_user_namespaces=";
  text += userns.max_user_namespaces ? std::to_string(*userns.max_user_namespaces) : "unknown";
  if (userns.unprivileged_userns_clone) {
    text += ", unprivileged_userns_clone=" + std::to_string(*userns.unprivileged_userns_clone);
  }
  return text + ")";
}

std::string seccomp_text(const SeccompReport& seccomp) {
  if (!seccomp.available) return "no (kernel without CONFIG_SECCOMP)";
  return "yes (this process: mode " + (seccomp.mode ? std::to_string(*seccomp.mode) : "?") + ")";
}

std::string qemu_text(const QemuReport& qemu) {
  if (!qemu.path) return "not found in PATH (Debian package qemu-system-x86)";
  return *qemu.path + " (" + qemu.version.value_or("version unknown") + ")";
}

std::string cni_text(const CniReport& cni) {
  if (!cni.plugin_dir) {
    return "none (no CNI_PATH, /usr/lib/cni or /opt/cni/bin; Debian package "
           "containernetworking-plugins)";
  }
  std::string text = *cni.plugin_dir + " (present: " +
                     (cni.present.empty() ? "none" : join(cni.present, " "));
  if (!cni.missing.empty()) text += "; missing: " + join(cni.missing, " ");
  return text + ")";
}

}  // namespace

std::string_view kvm_kind_name(KvmKind kind) {
  switch (kind) {
    case KvmKind::Hardware: return "hardware";
    case KvmKind::NestedPvm: return "nested-pvm";
    case KvmKind::Unusable: return "unusable";
    case KvmKind::None: return "none";
  }
  return "none";
}

std::string_view cgroup_mode_name(CgroupMode mode) {
  switch (mode) {
    case CgroupMode::V2: return "v2";
    case CgroupMode::Hybrid: return "hybrid";
    case CgroupMode::V1: return "v1";
    case CgroupMode::None: return "none";
  }
  return "none";
}

std::string format_text(const HostReport& report) {
  std::vector<std::pair<std::string_view, std::string>> lines = {
      {"kvm", std::string(kvm_kind_name(report.kvm.kind)) + " (" + report.kvm.detail + ")"},
      {"cgroup", cgroup_text(report.cgroup)},
      {"overlayfs", report.overlayfs ? "yes" : "no (modprobe overlay)"},
      {"user namespaces", user_namespaces_text(report.user_namespaces)},
      {"seccomp", seccomp_text(report.seccomp)},
      {"qemu", qemu_text(report.qemu)},
      {"kvm pods", report.kvm_pods.hypervisor},
      {"guest kernel", report.kvm_pods.guest_kernel +
                           (report.kvm_pods.guest_kernel_built ? "" : " (not built: make build)")},
      {"cni plugins", cni_text(report.cni)},
      {"data dir", report.data_dir + (report.data_dir_exists ? " (exists)"
                                                             : " (missing: created on first use)")},
  };
  size_t width = 0;
  for (const auto& [key, value] : lines) width = std::max(width, key.size());
  std::string text;
  for (const auto& [key, value] : lines) {
    text += key;
    text += ':';
    text.append(width - key.size() + 1, ' ');
    text += value;
    text += '\n';
  }
  return text;
}

std::string format_json(const HostReport& report) {
  nlohmann::json json = {
      {"kvm", {{"kind", kvm_kind_name(report.kvm.kind)}, {"detail", report.kvm.detail}}},
      {"cgroup",
       {{"mode", cgroup_mode_name(report.cgroup.mode)},
        {"controllers", report.cgroup.controllers},
        {"unified_controllers", report.cgroup.unified_controllers}}},
      {"overlayfs", report.overlayfs},
      {"user_namespaces",
       {{"available", report.user_namespaces.available},
        {"max_user_namespaces", optional_json(report.user_namespaces.max_user_namespaces)},
        {"unprivileged_userns_clone",
         optional_json(report.user_namespaces.unprivileged_userns_clone)}}},
      {"seccomp",
       {{"available", report.seccomp.available}, {"mode", optional_json(report.seccomp.mode)}}},
      {"qemu",
       {{"path", optional_json(report.qemu.path)},
        {"version", optional_json(report.qemu.version)}}},
      {"kvm_pods",
       {{"hypervisor", report.kvm_pods.hypervisor},
        {"guest_kernel", report.kvm_pods.guest_kernel},
        {"guest_kernel_built", report.kvm_pods.guest_kernel_built}}},
      {"cni",
       {{"plugin_dir", optional_json(report.cni.plugin_dir)},
        {"present", report.cni.present},
        {"missing", report.cni.missing}}},
      {"data_dir", {{"path", report.data_dir}, {"exists", report.data_dir_exists}}},
  };
  // Replace rather than throw on bytes that are not UTF-8 (a path can hold anything).
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace podrt::host
