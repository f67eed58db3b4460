// Path resolution confined to a directory: openat2(2) with RESOLVE_BENEATH and no symlinks at all,
// so that no path taken from an image can lead outside the directory it is unpacked into; and,
// for reading a finished image as its apps will, RESOLVE_IN_ROOT (its symlinks kept inside it).
#pragma once

#include <sys/types.h>

#include <optional>
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

/// Opens the absolute `path` inside the image tree at `root_fd` with symlinks resolved as if
/// that tree were / (openat2 RESOLVE_IN_ROOT): for reading an image the way its apps will,
/// never reaching outside it.
Result<UniqueFd> open_in_root(int root_fd, const std::string& path, int flags);
/// Whether `path` names a regular file in the image (after its symlinks).
bool regular_file_in_root(int root_fd, const std::string& path);
/// The content of a regular file of at most 1 MiB in the image (its /etc/passwd), or nothing.
std::optional<std::string> read_small_file_in_root(int root_fd, const std::string& path);

}  // namespace podrt::image
