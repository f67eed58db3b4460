// Names of the files in a pod directory (rkt's layout, Documentation/devel/architecture.md).
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

}  // namespace podrt::pods
