// File-system helpers that return Result instead of touching errno at the call site.
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>

#include "common/result.h"
#include "common/unique_fd.h"

namespace podrt::sys {

/// open(2) with O_CLOEXEC always added.
Result<UniqueFd> open_file(const std::string& path, int flags, mode_t mode = 0);
/// Reads a whole file.
Result<std::string> read_file(const std::string& path);
/// Whether write_file_atomic waits for the data to reach the disk before the rename.
/// Unsynced still never shows a half-written file; it may lose the write in a power cut,
/// which is fine for state that a power cut ends anyway (a pod's runtime files).
enum class Sync { Yes, No };

/// Writes `content` to a temporary name beside `path`, fsyncs and renames it into place, so a
/// crash at any point leaves either the old file or the new one.
Result<void> write_file_atomic(const std::string& path, std::string_view content,
                               mode_t mode = 0644, Sync sync = Sync::Yes);
/// write(2) until all of `data` is written (EINTR retried); errors read "write WHAT: ...".
Result<void> write_all(int fd, std::string_view data, const std::string& what);
/// The directory of the running binary (from /proc/self/exe), where podrt's binaries find
/// each other; empty when it cannot be read.
std::string own_directory();
/// mkdir -p.
Result<void> make_directories(const std::string& path, mode_t mode = 0755);
/// rm -rf that never follows symlinks; a missing path is not an error.
Result<void> remove_tree(const std::string& path);
/// True when `path` exists (without following a final symlink).
bool path_exists(const std::string& path);
/// fsync a directory so that a rename in it is durable.
Result<void> sync_directory(const std::string& path);
/// Total size in bytes of regular files below `path` (symlinks not followed).
Result<uint64_t> tree_size(const std::string& path);

}  // namespace podrt::sys
