// RootfsWriter: creates an image's rootfs entries inside one directory and never outside it.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/unique_fd.h"

struct archive;

namespace podrt::image {

/// Ownership, permission bits and times of one entry.
struct EntryMeta {
  mode_t mode = 0;  // permission bits incl. setuid/setgid/sticky (07777)
  uid_t uid = 0;
  gid_t gid = 0;
  struct timespec atime = {};
  struct timespec mtime = {};
};

/// Writes entries below a root directory. Every entry's parent is opened with openat2
/// (RESOLVE_BENEATH, no symlinks), then the last component is made relative to that fd, so a
/// symlink in the image can never redirect a write. Paths are normalized and relative to the
/// root ("" is the root itself). Directory modes and times are applied by finish(), deepest first,
/// so that read-only directories can still be filled. Ownership is kept when running as root.
class RootfsWriter {
 public:
  /// Opens the existing directory `root_dir`.
  static Result<RootfsWriter> open(const std::string& root_dir);

  /// Makes a directory (replacing a non-directory); its metadata is applied by finish().
  Result<void> directory(std::string_view path, const EntryMeta& meta);
  /// Creates a regular file (replacing what was there) with the entry's data from `reader`.
  Result<void> regular_file(std::string_view path, const EntryMeta& meta, struct archive* reader,
                            int64_t size);
  /// Creates a symlink; the target is only data and is never followed.
  Result<void> symlink(std::string_view path, const EntryMeta& meta, const char* target);
  /// Hard-links `path` to the existing `target` (also a normalized path below the root).
  Result<void> hardlink(std::string_view path, std::string_view target);
  /// Creates a FIFO.
  Result<void> fifo(std::string_view path, const EntryMeta& meta);
  /// Removes whatever is at `path` (a whole directory tree included); nothing there, or a
  /// missing parent, is not an error. An OCI whiteout.
  Result<void> remove(std::string_view path);
  /// Removes every entry below the directory `path` for which `keep(child path)` is false;
  /// below a kept directory its children are judged the same way, so only what `keep` names
  /// remains. A missing directory is not an error; a symlink on the way is. An OCI opaque
  /// whiteout (`keep`: what the current layer made).
  Result<void> clear_directory(std::string_view path,
                               const std::function<bool(std::string_view child_path)>& keep);
  /// Applies the directories' ownership, modes and times.
  Result<void> finish();

 private:
  struct PendingDirectory {
    std::string path;
    EntryMeta meta;
  };
  RootfsWriter(UniqueFd root, bool preserve_owner)
      : root_(std::move(root)), preserve_owner_(preserve_owner) {}
  /// The parent directory of `path` (an O_PATH fd, cached for runs of entries in one directory)
  /// and the last component in `name`.
  Result<int> parent_of(std::string_view path, std::string& name);
  /// Removes whatever is at `name` in `dir_fd` (a directory with all it holds included).
  Result<void> remove_existing(int dir_fd, const std::string& name);
  Result<void> apply_owner_and_times(int dir_fd, const std::string& name, const EntryMeta& meta);

  UniqueFd root_;
  bool preserve_owner_ = false;
  std::string cached_parent_path_;
  UniqueFd cached_parent_fd_;
  std::vector<PendingDirectory> pending_directories_;
};

}  // namespace podrt::image
