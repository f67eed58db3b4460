// GuestConfig: what stage1-kvm tells guest-init about the pod (the kConfig frame). The host
// resolves everything (manifests, flags, isolators) as stage1-ns does; guest-init only mounts
// what it is told to and hands the plan to the shared supervisor.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"
#include "common/supervisor/pod_plan.h"

namespace podrt::guest_protocol {

/// A volume of the pod, mounted once in the guest at /podrt/volumes/<name>.
struct GuestVolume {
  enum class Kind { kHost, kEmpty };
  std::string name;
  Kind kind = Kind::kEmpty;
  std::string tag;         ///< kHost: the virtio-9p mount tag the host exported it under
  bool read_only = false;
  uint32_t mode = 0755;    ///< kEmpty: the tmpfs root's mode, uid and gid (appc kind=empty)
  uint32_t uid = 0;
  uint32_t gid = 0;
};

/// A volume bound into an app's rootfs.
struct GuestMount {
  std::string volume;      ///< a GuestVolume name
  std::string target;      ///< absolute, inside the app's rootfs (resolved in the guest)
  bool read_only = false;
};

/// Per app: its root filesystem image and the cgroup limits of its isolators.
struct GuestApp {
  std::string name;        ///< the same name as in the plan
  std::string disk;        ///< the read-only block device holding the image: "/dev/vda"
  std::string fs_type = "erofs";
  bool read_only_root = false;  ///< no writable overlay upper
  std::optional<uint64_t> memory_bytes;
  std::optional<uint64_t> cpu_shares;
  std::optional<uint64_t> cpu_millicores;
  std::optional<uint64_t> pids_max;
  std::vector<GuestMount> mounts;
};

/// The guest's one interface (eth0), configured by guest-init.
struct GuestNetwork {
  std::string address;     ///< "172.16.28.5"
  uint32_t prefix_length = 24;
  std::string gateway;     ///< default route; empty for none
  uint32_t mtu = 1500;
  /// CNI ptp's layout: no neighbour is on the link but the gateway, so the subnet is routed
  /// through it (a pod reaches another pod through the host), as ptp sets up a netns.
  bool subnet_via_gateway = false;
};

struct GuestConfig {
  /// Each app's root is /opt/stage2/<name>/rootfs; guest-init fills cgroup_procs_files.
  supervisor::PodPlan plan;
  std::vector<GuestApp> apps;  ///< the same apps, in the same order, as plan.apps
  std::vector<GuestVolume> volumes;
  std::string hostname;
  std::string etc_hosts;        ///< bound read-only at /etc/hosts in every app
  std::string etc_resolv_conf;  ///< bound read-only at /etc/resolv.conf in every app
  std::optional<GuestNetwork> network;  ///< absent: loopback only
  bool harden_paths = true;     ///< mask and protect /proc and /sys paths, as stage1-ns
  bool interactive = false;     ///< the single app gets a pty; kStdin/kResize frames feed it
};

/// The root an app's rootfs is mounted on in the guest.
std::string app_root_in_guest(std::string_view app_name);

nlohmann::json to_json(const GuestConfig& config);
/// Parses and checks what to_json wrote; errors are one line starting with "guest config: ".
Result<GuestConfig> parse_guest_config(std::string_view json_text);

}  // namespace podrt::guest_protocol
