// Path resolution confined to a directory: openat2(2) with RESOLVE_BENEATH and no symlinks at all,
// so that no path taken from an image can lead outside the directory it is unpacked into.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::image {

/// openat2(root_fd, path, flags | O_CLOEXEC) with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
/// RESOLVE_NO_MAGICLINKS: fails (ELOOP) when any component, the last included, is a symlink and
/// (EXDEV) when the path would leave root_fd. `path` is relative and normalized (no "..").
/// Errors carry the errno; ELOOP and EXDEV read as "goes through a symlink" / "escapes the root".
Result<UniqueFd> open_beneath(int root_fd, const std::string& path, int flags, mode_t mode = 0);

/// Opens the directory `path` beneath root_fd as an O_PATH fd for the *at() calls. An empty path
/// opens root_fd itself. With create_missing, missing directories are made (mode 0755) one
/// component at a time, each confined like open_beneath.
Result<UniqueFd> open_directory_beneath(int root_fd, std::string_view path, bool create_missing);

}  // namespace podrt::image
