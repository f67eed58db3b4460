// Paths inside an app's rootfs, resolved the way the app will see them: symlinks are followed
// as if the rootfs were "/" (openat2 RESOLVE_IN_ROOT), so a hostile image's "/etc/hosts ->
// /../../host/file" cannot make stage1 mount or write outside the rootfs.
#pragma once

#include <string>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::stage1::rootfs {

enum class TargetKind { Directory, File };

/// Opens `path` (absolute, as the app sees it) inside `root_fd` as an O_PATH fd, creating
/// missing directories on the way and, when missing, the last component as `kind`.
Result<UniqueFd> open_mount_target(int root_fd, const std::string& path, TargetKind kind);

/// "/proc/self/fd/N": a name for an fd that mount(2) accepts without resolving the path again.
std::string fd_path(int fd);

}  // namespace podrt::stage1::rootfs
