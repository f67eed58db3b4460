// Names of the files in a pod directory (rkt's layout, Documentation/devel/architecture.md):
// the contract between stage0 and the stage1s.
#pragma once

#include <string_view>

namespace podrt::pods {

inline constexpr std::string_view kPodManifestFile = "pod";          ///< the appc pod manifest
inline constexpr std::string_view kCreatedFile = "pod-created";      ///< its mtime: creation time
inline constexpr std::string_view kStartedFile = "pod-started";      ///< its mtime: start time
inline constexpr std::string_view kAppsInfoDir = "appsinfo";         ///< appsinfo/<app>/...
inline constexpr std::string_view kImageManifestFile = "manifest";   ///< appsinfo/<app>/manifest
inline constexpr std::string_view kImageIdFile = "treeStoreID";      ///< appsinfo/<app>/treeStoreID
inline constexpr std::string_view kOverlayDir = "overlay";           ///< overlay/<app>/{upper,work}
inline constexpr std::string_view kAppStatusDir = "status";          ///< status/<app>: exit code
// Written by stage1 (docs/stage1-contract.md).
inline constexpr std::string_view kPidFile = "pid";                  ///< the pod's PID 1 on the host
inline constexpr std::string_view kCgroupsFile = "cgroups";          ///< the pod's cgroup dirs, one a line
inline constexpr std::string_view kPlanFile = "stage1/plan.json";    ///< the supervisor's plan (enter)
inline constexpr std::string_view kPodRootDir = "stage1/rootfs";     ///< the pod root's mount point
inline constexpr std::string_view kEtcDir = "stage1/etc";            ///< generated hosts, resolv.conf
inline constexpr std::string_view kSharedVolumesDir = "sharedVolumes";  ///< kind=empty volumes

}  // namespace podrt::pods
